"""Query parameters shared by several routers, checked with errors that name them."""

from __future__ import annotations

from services.api.errors import ApiError
from services.moments import parse_moment

__all__ = ["MOMENT_HELP", "moment"]

MOMENT_HELP = (
    "ISO 8601 date or timestamp (naive means UTC), e.g. 2026-03-04 or 2026-03-04T10:15:00+08:00"
)


def moment(value: str | None, name: str) -> int | None:
    """A moment parameter as µs since the epoch; 422 naming the parameter when unreadable."""
    if value is None:
        return None
    try:
        return parse_moment(value)
    except ValueError as exc:
        raise ApiError(422, "invalid_parameter", f"{name}: {exc}", {"parameter": name}) from None
