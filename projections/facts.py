"""The compact record every per-customer fold reads: one :class:`Fact` per touchpoint.

Why not the :class:`~events.touchpoint.Touchpoint` model: folds run over whole customer
histories on every batch that touches the customer, millions of times in a rebuild, so their
input must be cheap to build (read back column-wise from the journey view), cheap to hold in
memory and cheap to sort. A named tuple of plain values is all three; building a pydantic model
per touchpoint would cost more than the folds themselves.

Times are integer microseconds since the epoch (UTC), exactly the journey view's DateTime64(6)
tick, plus the original UTC offset in minutes, so folds compare and subtract without datetime
objects and still know the local time a contact happened at.

Facts sort by :func:`order_key`: event time first, then the order the organisation learned of
them, then what the customer did before what the organisation did in answer (a 311 request
and its closure are often stamped with the same second), and the event id as a last, total
tie-break. That order is the "event-time order" every fold is a pure function of.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from events.taxonomy import CUSTOMER_INITIATED_KINDS

__all__ = [
    "DAY_US",
    "HOUR_US",
    "MINUTE_US",
    "Fact",
    "in_event_time_order",
    "order_key",
]

MINUTE_US = 60_000_000
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US


class Fact(NamedTuple):
    """One touchpoint, reduced to what the scene, customer and compliance folds use."""

    occurred: int
    recorded: int
    event_id: str
    customer_id: str
    offset_minutes: int
    channel: str
    direction: str
    actor_type: str
    actor_id: str | None
    kind: str
    service_type: str
    case_id: str | None
    contact_id: str | None
    parent_event_id: str | None
    outcome: str | None
    score: int | None
    wait_seconds: float | None
    handle_seconds: float | None
    #: The customer's IANA time zone when a source reported one (attribute ``customer_tz``).
    customer_tz: str | None = None


_CUSTOMER_KINDS = frozenset(kind.value for kind in CUSTOMER_INITIATED_KINDS)


def order_key(fact: Fact) -> tuple[int, int, bool, str]:
    """The event-time order of facts (see the module doc); total, as event ids are unique."""
    return (fact.occurred, fact.recorded, fact.kind not in _CUSTOMER_KINDS, fact.event_id)


def in_event_time_order(facts: Iterable[Fact]) -> list[Fact]:
    """``facts`` deduplicated by event id and sorted into event-time order.

    A re-delivered batch can put the same touchpoint in a history twice; every copy of an event
    id is the same touchpoint (the log is immutable), so keeping any one is exact.
    """
    unique = {fact.event_id: fact for fact in facts}
    return sorted(unique.values(), key=order_key)
