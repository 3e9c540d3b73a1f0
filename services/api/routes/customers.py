"""A customer: the unified view, the journey (now or as of a moment), scenes, risk flag,
the step-through replay and the signed evidence export.

Every read of journey content (journey, scenes, replay, export, and the customer view, which
holds the identity) is recorded in the audit trail of reads under the token's name, once the
answer is known to exist (a read that finds nothing shows nothing and is not recorded).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from services.api.auth import PlatformDep, require, require_also
from services.api.disclosure import disclose
from services.api.errors import ApiError
from services.api.routes.params import MOMENT_HELP, moment
from services.platform import Platform
from services.reads import record_read
from services.security import Capability, Principal

__all__ = ["router"]

router = APIRouter(prefix="/v1/customers", tags=["customers"])

Reader = Annotated[Principal, Depends(require(Capability.CUSTOMERS_READ))]


def _missing(what: str, customer_id: str, suffix: str = "") -> ApiError:
    return ApiError(404, "not_found", f"no {what} for customer {customer_id!r}{suffix}")


@router.get("/{customer_id}", summary="The unified customer view")
def customer(customer_id: str, platform: PlatformDep, principal: Reader) -> dict[str, Any]:
    from services.views import customer_json

    profile = platform.customer_view.get(customer_id)
    if profile is None:
        raise ApiError(404, "not_found", f"no customer {customer_id!r}")
    data = customer_json(profile, platform.vault)
    disclose(platform, principal, customer_id, data["identifiers"])
    record_read(platform, principal.name, "customer", customer_id)
    return data


@router.get("/{customer_id}/journey", summary="The journey across channels (now or as of)")
def journey(
    customer_id: str,
    platform: PlatformDep,
    principal: Reader,
    as_of: Annotated[str | None, Query(description=f"what was known then: {MOMENT_HELP}")] = None,
    limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> dict[str, Any]:
    moment_us = moment(as_of, "as_of")
    if moment_us is not None:
        require_also(principal, Capability.HISTORY_READ)
        if limit is not None:
            raise ApiError(422, "invalid_parameter", "limit does not apply with as_of")
        return _journey_as_of(platform, principal, customer_id, moment_us)
    from services.journeys import journey_json

    entries = platform.journey_view.timeline(customer_id, limit=limit)
    if not entries:
        raise _missing("touchpoints", customer_id)
    data = journey_json(customer_id, entries, platform.vault)
    disclose(platform, principal, customer_id, data["customer"], entries=entries)
    record_read(platform, principal.name, "journey", customer_id)
    return data


def _journey_as_of(
    platform: Platform, principal: Principal, customer_id: str, moment_us: int
) -> dict[str, Any]:
    from services.asof import Sources, journey_as_of

    data = journey_as_of(Sources.of(platform), customer_id, moment_us, principal.name)
    if data is None:
        raise _missing("touchpoints", customer_id, " occurred by the as_of moment")
    disclose(platform, principal, customer_id, data["customer"], data["known"]["customer"])
    record_read(platform, principal.name, "journey", customer_id, as_of=moment_us)
    return data


@router.get("/{customer_id}/scenes", summary="The customer's service scenes, oldest first")
def scenes(customer_id: str, platform: PlatformDep, principal: Reader) -> dict[str, Any]:
    from services.views import scene_json

    found = [scene_json(row) for row in platform.scene_view.for_customer(customer_id)]
    if not found:
        raise _missing("episodes", customer_id)
    record_read(platform, principal.name, "scenes", customer_id)
    return {"customer_id": customer_id, "scenes": found}


@router.get("/{customer_id}/risk", summary="The customer's sensitive flag and how it changed")
def risk(customer_id: str, platform: PlatformDep, principal: Reader) -> dict[str, Any]:
    from services.decisions.views import risk_json

    return risk_json(platform.decisions.risk_of(customer_id), customer_id)


@router.get("/{customer_id}/replay", summary="Step through the journey (event-time order)")
def replay(
    customer_id: str,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Capability.HISTORY_READ))],
    since: Annotated[str | None, Query(alias="from", description=MOMENT_HELP)] = None,
    until: Annotated[str | None, Query(alias="to", description=MOMENT_HELP)] = None,
) -> dict[str, Any]:
    from services.asof import Sources
    from services.replay_view import iter_step_json, replay_steps

    start, end = moment(since, "from"), moment(until, "to")
    if start is not None and end is not None and start > end:
        raise ApiError(422, "invalid_parameter", "from is after to", {"parameter": "from"})
    sources = Sources.of(platform)
    steps = replay_steps(sources, customer_id, start, end, principal.name)
    if not steps.steps:
        raise _missing("touchpoints", customer_id, " in that period" if since or until else "")
    record_read(platform, principal.name, "replay", customer_id, since=start, until=end)
    return {"customer_id": customer_id, "steps": list(iter_step_json(steps, sources))}


@router.get(
    "/{customer_id}/export",
    summary="The customer's signed evidence bundle (zip)",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def export(
    customer_id: str,
    request: Request,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Capability.EXPORTS_CREATE))],
) -> Response:
    from services.evidence import export_bundle, record_export

    bundle = export_bundle(platform, customer_id, request.app.state.clock())
    # Recorded before the answer leaves: the trail may over-report a read whose download
    # then failed, never miss one that succeeded.
    record_export(platform, customer_id, principal.name, bundle)
    filename = f"evidence-{customer_id}.zip".replace('"', "")
    return Response(
        bundle.data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Chain-Head": bundle.chain_head,
        },
    )
