"""The HTTP API: :func:`create_app` builds the FastAPI application over a :class:`Platform`.

* every endpoint but ``GET /health`` needs a bearer token whose roles allow what it does
  (:mod:`services.api.auth`, :mod:`services.security.roles`);
* errors answer in one shape (:mod:`services.api.errors`);
* with ``live=True`` (``servicetrace serve``) the projector, the risk engine and the relay
  follow the log on a thread of this process (:mod:`services.api.live`); without it (tests,
  or an API process beside a projector process on the production shape) the app only reads
  and appends;
* ``/openapi.json`` and ``/docs`` describe it all; ``/metrics`` is Prometheus's; ``/ui`` is
  the web pages (sign-in with a token, then a session cookie).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.responses import Response

from services.api.auth import PlatformDep, require
from services.api.errors import install_error_handlers
from services.api.live import LivePipeline
from services.api.routes import ROUTERS
from services.platform import Platform
from services.security import Capability, Principal

__all__ = ["UI_PATH", "create_app"]

#: Where the web pages (static HTML/JS calling this API) are mounted; kept free here.
UI_PATH = "/ui"

_DESCRIPTION = """\
Customer-service touchpoints in an immutable log, projected into journeys, scenes, channel
analytics and risk alerts.

Authenticate with `Authorization: Bearer <token>` (`servicetrace token create`); the web
pages under `/ui/` sign in with `POST /ui/session` and then send the token as an HttpOnly
session cookie (changes made with it need the header `X-Servicetrace: 1`). Each
endpoint needs one capability; roles: **ingest** (post touchpoints), **agent** (a customer's
view, journey, scenes and flag, personal fields in clear), **supervisor** (alerts, their
workflow and live stream, analytics), **auditor** (history as of a moment, replay,
evaluations, evidence exports), **admin** (everything, the trail of reads, tokens). Errors
answer `{"error": {"code", "message", "details"}}`.
"""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _version() -> str:
    try:
        return version("servicetrace")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


def _warm(platform: Platform, live: bool) -> None:
    """Build the adapters before the first request: request threads then share one of each
    (two threads racing through a ``cached_property`` would each build their own)."""
    for name in (
        "tokens",
        "log",
        "deadletters",
        "intake",
        "serde",
        "projector",
        "journey_view",
        "scene_view",
        "customer_view",
        "channel_view",
        "compliance_view",
        "rules",
        "decisions",
        "audit",
    ):
        getattr(platform, name)
    if live:
        platform.risk_engine  # noqa: B018 - built now, on this thread
        if platform.settings.log != "kafka":
            platform.relay  # noqa: B018


def create_app(
    platform: Platform,
    *,
    live: bool,
    clock: Callable[[], datetime] = _utc_now,
    poll: float = 0.5,
) -> FastAPI:
    """The API over ``platform``; ``live`` runs the pipeline on a thread while the app runs.

    ``clock`` stamps what people do through the API (exports, dead letters); the platform's
    own applications stamp alert actions and evaluations.
    """
    _warm(platform, live)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pipeline = LivePipeline(platform, poll) if live else None
        if pipeline is not None:
            pipeline.start()
        app.state.pipeline = pipeline
        try:
            yield
        finally:
            if pipeline is not None:
                pipeline.stop()

    app = FastAPI(
        title="servicetrace",
        version=_version(),
        description=_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.platform = platform
    app.state.clock = clock
    app.state.pipeline = None
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    _mount_metrics(app)
    _mount_pages(app)
    return app


def _mount_pages(app: FastAPI) -> None:
    """The browser sign-in (``POST /ui/session``, before the static mount so that it wins)
    and the web pages under :data:`UI_PATH` (:mod:`services.web`)."""
    from services.api.routes import ui
    from services.web import mount_pages

    app.include_router(ui.router)
    mount_pages(app, UI_PATH)


def _mount_metrics(app: FastAPI) -> None:
    """``GET /metrics`` (Prometheus text format, :mod:`services.metrics`); it needs a token
    like every endpoint but health (Prometheus sends one:
    ``authorization: {credentials: ...}`` in its scrape config)."""
    from services.metrics import metrics_text

    @app.get("/metrics", tags=["health"], summary="Prometheus metrics")
    def metrics(
        platform: PlatformDep,
        principal: Annotated[Principal, Depends(require(Capability.METRICS_READ))],
    ) -> Response:
        body, content_type = metrics_text(platform)
        return Response(body, media_type=content_type)
