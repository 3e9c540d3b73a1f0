"""``GET /v1/risk/sensitive``: the customers flagged sensitive now, for the supervisors' board.

Answered from :class:`~services.decisions.flags_board.FlagBoard` (one per app, built on first
use), not by asking every customer's ``/risk``. Ids and rule facts only: no personal data.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from services.api.auth import PlatformDep, require
from services.decisions.flags_board import FlagBoard
from services.decisions.views import iso_micros
from services.security import Capability, Principal

__all__ = ["flag_board", "router"]

router = APIRouter(prefix="/v1/risk", tags=["alerts"])

_building = threading.Lock()


def flag_board(request: Request, platform: PlatformDep) -> FlagBoard:
    """The app's board (built once, under a lock: request threads race to the first use)."""
    state = request.app.state
    with _building:
        board: FlagBoard | None = getattr(state, "flag_board", None)
        if board is None:
            board = FlagBoard(platform.decisions)
            state.flag_board = board
    return board


@router.get("/sensitive", summary="Customers flagged sensitive now, most recent change first")
def sensitive(
    board: Annotated[FlagBoard, Depends(flag_board)],
    principal: Annotated[Principal, Depends(require(Capability.ALERTS_READ))],
    limit: Annotated[int, Query(ge=1, le=10_000)] = 200,
) -> dict[str, Any]:
    rows = board.rows()
    shown = [{**asdict(row), "at": iso_micros(row.at)} for row in rows[:limit]]
    return {"count": len(rows), "customers": shown}
