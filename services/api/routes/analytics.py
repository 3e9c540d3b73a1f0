"""Channel analytics and contact-policy compliance (no personal data: aggregates and ids)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from services.api.auth import PlatformDep, require
from services.api.errors import ApiError
from services.security import Capability, Principal

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["analytics"])

Analyst = Annotated[Principal, Depends(require(Capability.ANALYTICS_READ))]
Since = Annotated[date | None, Query(alias="from", description="first day (YYYY-MM-DD)")]
Until = Annotated[date | None, Query(alias="to", description="last day (YYYY-MM-DD)")]


def _period(since: date | None, until: date | None) -> None:
    if since is not None and until is not None and since > until:
        raise ApiError(422, "invalid_parameter", "from is after to", {"parameter": "from"})


@router.get("/channels", summary="Volume, handling, resolution, satisfaction and cost by channel")
def channels(
    platform: PlatformDep,
    principal: Analyst,
    since: Since = None,
    until: Until = None,
    daily: Annotated[bool, Query(description="one row per channel and day")] = False,
) -> dict[str, Any]:
    from services.views import jsonable

    _period(since, until)
    view = platform.channel_view
    rows = view.daily(since, until) if daily else view.totals(since, until)
    return {
        "from": jsonable(since),
        "to": jsonable(until),
        "daily": daily,
        "channels": jsonable(rows),
    }


@router.get("/compliance", summary="Outbound contacts that broke the contact policy")
def compliance(
    platform: PlatformDep,
    principal: Analyst,
    since: Since = None,
    until: Until = None,
    rule: Literal["dnd_window", "silence_real_time"] | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> dict[str, Any]:
    from services.views import compliance_json

    _period(since, until)
    view = platform.compliance_view
    period = {"since": since, "until": until}
    return compliance_json(view, view.list(rule=rule, limit=limit, **period), **period)
