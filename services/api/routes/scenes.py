"""``GET /v1/scenes/{episode}``: one service scene with its touchpoints, now or as of."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from services.api.auth import PlatformDep, require, require_also
from services.api.errors import ApiError
from services.api.routes.params import MOMENT_HELP, moment
from services.reads import record_read
from services.security import Capability, Principal

__all__ = ["router"]

router = APIRouter(prefix="/v1/scenes", tags=["scenes"])


@router.get("/{episode_id}", summary="One episode: metrics, pairings and touchpoints")
def scene(
    episode_id: str,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Capability.CUSTOMERS_READ))],
    as_of: Annotated[str | None, Query(description=f"as it stood then: {MOMENT_HELP}")] = None,
) -> dict[str, Any]:
    from services.journeys import touchpoints_json
    from services.views import scene_json

    moment_us = moment(as_of, "as_of")
    if moment_us is not None:
        require_also(principal, Capability.HISTORY_READ)
    row = platform.scene_view.get(episode_id)
    if row is None:
        raise ApiError(404, "not_found", f"no episode {episode_id!r}")
    customer_id = str(row["customer_id"])
    if moment_us is not None:
        from services.asof import Sources, scene_as_of

        data = scene_as_of(Sources.of(platform), row, moment_us, principal.name)
    else:
        data = scene_json(row)
        data["touchpoints_detail"] = touchpoints_json(
            platform.journey_view, platform.vault, customer_id, row["event_ids"]
        )
    record_read(
        platform, principal.name, "scene", customer_id, episode_id=episode_id, as_of=moment_us
    )
    return data
