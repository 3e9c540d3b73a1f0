"""Moments typed by people on the command line (``--as-of``, ``--from``, ``--to``).

An auditor types ``2026-03-04``, ``2026-03-04T10:15`` or a full ISO 8601 timestamp with an
offset; a naive moment means UTC, a bare date means its first microsecond. Everything inside
the platform compares integer microseconds since the epoch (the journey view's tick), so the
parameter yields those.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

__all__ = ["MOMENT", "Moment", "from_micros", "parse_moment", "to_micros", "wall_clock"]


def to_micros(moment: datetime) -> int:
    """``moment`` (aware) as microseconds since the epoch."""
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    """Microseconds since the epoch as an aware UTC datetime."""
    return datetime.fromtimestamp(micros / 1_000_000, UTC).replace(microsecond=micros % 1_000_000)


def wall_clock() -> str:
    """Now (UTC, to the second, ISO 8601): the default clock that stamps people's actions
    (an alert acknowledged, an evaluation, a read, an erasure, a token issued); each
    application takes it as an injectable ``clock``."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def parse_moment(text: str) -> int:
    """An ISO 8601 date or timestamp (naive = UTC) as microseconds since the epoch.

    Raises :class:`ValueError` saying what was expected.
    """
    cleaned = text.strip()
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a moment: use an ISO 8601 date or timestamp such as 2026-03-04, "
            "2026-03-04T10:15 or 2026-03-04T10:15:00+08:00 (naive means UTC)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return to_micros(moment)


class Moment(click.ParamType):  # type: ignore[type-arg]
    """A click parameter: :func:`parse_moment`'s microseconds."""

    name = "moment"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_moment(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


MOMENT = Moment()
