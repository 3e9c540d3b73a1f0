"""The supervisors' alerts: the board, one alert with its provenance, the workflow actions
(recorded under the token's name) and the live stream of changes (Server-Sent Events)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from services.api.auth import PlatformDep, require
from services.decisions.domain import Alert
from services.platform import Platform
from services.security import Capability, Principal

__all__ = ["router"]

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])

Watcher = Annotated[Principal, Depends(require(Capability.ALERTS_READ))]
Actor = Annotated[Principal, Depends(require(Capability.ALERTS_ACT))]
Status = Literal["open", "acknowledged", "resolved", "dismissed", "withdrawn"]


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AckBody(_Body):
    pass


class ResolveBody(_Body):
    note: str = Field(min_length=1, max_length=2000, description="what was done")


class DismissBody(_Body):
    reason: str = Field(min_length=1, max_length=2000, description="why it needs no action")


@router.get("", summary="Alerts, newest event time first")
def alerts(
    platform: PlatformDep,
    principal: Watcher,
    status: Status | None = None,
    customer: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
) -> list[dict[str, Any]]:
    from services.decisions.views import alert_row_json

    rows = platform.decisions.alerts(status, customer)[:limit]
    return [alert_row_json(row) for row in rows]


@router.get(
    "/stream",
    summary="Alert changes, live (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    request: Request,
    platform: PlatformDep,
    principal: Watcher,
    customer: str | None = None,
    limit: Annotated[
        int | None, Query(ge=1, description="end after this many alert events")
    ] = None,
    timeout: Annotated[float | None, Query(gt=0, le=86_400, description="end after (s)")] = None,
    last_event_id: Annotated[str | None, Header(description="resume after this event")] = None,
) -> StreamingResponse:
    from services.api.stream import alert_events

    start = int(last_event_id) if last_event_id and last_event_id.strip().isdigit() else None
    events = alert_events(
        platform.decisions,
        start,
        request.is_disconnected,
        customer_id=customer,
        limit=limit,
        timeout=timeout,
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


@router.get("/{alert_id}", summary="One alert: rule, reasons, workflow, triggering touchpoints")
def alert(alert_id: str, platform: PlatformDep, principal: Watcher) -> dict[str, Any]:
    found = platform.decisions.alert(alert_id)
    return _detail(platform, found)


def _detail(platform: Platform, found: Alert) -> dict[str, Any]:
    from services.decisions.views import alert_json
    from services.journeys import touchpoints_json

    touchpoints = touchpoints_json(
        platform.journey_view, platform.vault, found.customer_id, found.triggers
    )
    return alert_json(found, touchpoints)


@router.post("/{alert_id}/ack", summary="Acknowledge an open alert")
def ack(
    alert_id: str, platform: PlatformDep, principal: Actor, body: AckBody | None = None
) -> dict[str, Any]:
    return _detail(platform, platform.decisions.acknowledge(alert_id, by=principal.name))


@router.post("/{alert_id}/resolve", summary="Resolve an open or acknowledged alert")
def resolve(
    alert_id: str, body: ResolveBody, platform: PlatformDep, principal: Actor
) -> dict[str, Any]:
    changed = platform.decisions.resolve(alert_id, by=principal.name, note=body.note)
    return _detail(platform, changed)


@router.post("/{alert_id}/dismiss", summary="Dismiss an open or acknowledged alert")
def dismiss(
    alert_id: str, body: DismissBody, platform: PlatformDep, principal: Actor
) -> dict[str, Any]:
    changed = platform.decisions.dismiss(alert_id, by=principal.name, reason=body.reason)
    return _detail(platform, changed)
