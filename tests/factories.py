"""Valid touchpoints and fold facts for tests, built directly (no intake, no mapping).

``make_touchpoint`` picks a direction and actor that fit the kind (customer kinds arrive
inbound from the customer, provider kinds go outbound from an agent), so any kind from the
taxonomy yields a touchpoint the model accepts; ``overrides`` replace any field.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from events.taxonomy import CUSTOMER_INITIATED_KINDS, ActorType, Direction, Kind
from events.touchpoint import Actor, Source, Touchpoint
from projections.facts import Fact, in_event_time_order

__all__ = ["BASE_TIME", "FOLD_EPOCH_US", "arrival_histories", "make_fact", "make_touchpoint"]

#: Monday 2026-01-05 00:00 UTC in microseconds: the origin of the fold tests' facts.
FOLD_EPOCH_US = int(datetime(2026, 1, 5, tzinfo=UTC).timestamp()) * 1_000_000
_CUSTOMER_KIND_VALUES = frozenset(kind.value for kind in CUSTOMER_INITIATED_KINDS)

#: A fixed event-time origin in UTC+08:00, so tests also check that offsets survive.
BASE_TIME = datetime(2024, 3, 4, 9, 30, tzinfo=timezone(timedelta(hours=8)))

_NAMESPACE = uuid.UUID("9b2f7c1e-0d4a-4c55-9a0e-7e57fac70001")


def make_touchpoint(
    customer_id: str = "C1",
    kind: str = "complaint",
    channel: str = "phone",
    minutes: float = 0,
    **overrides: Any,
) -> Touchpoint:
    """A valid touchpoint ``minutes`` after :data:`BASE_TIME`; the id is derived from the args.

    Equal arguments give equal event ids (the log dedupes them), so pass ``event_id`` or vary
    ``minutes`` when two touchpoints must differ.
    """
    customer_kind = Kind(kind) in CUSTOMER_INITIATED_KINDS
    occurred = BASE_TIME + timedelta(minutes=minutes)
    fields: dict[str, Any] = {
        "event_id": uuid.uuid5(_NAMESPACE, f"{customer_id}|{kind}|{channel}|{minutes}"),
        "occurred_at": occurred,
        "recorded_at": occurred + timedelta(seconds=2),
        "source": Source(system="test", event_id=f"{customer_id}-{kind}-{minutes}"),
        "customer_id": customer_id,
        "channel": channel,
        "direction": Direction.INBOUND if customer_kind else Direction.OUTBOUND,
        "actor": Actor(type=ActorType.CUSTOMER if customer_kind else ActorType.AGENT),
        "kind": kind,
        "service_type": "outage",
    }
    fields.update(overrides)
    return Touchpoint(**fields)


def make_fact(
    event_id: str,
    occurred: int,
    kind: str = "inquiry",
    channel: str = "phone",
    *,
    direction: str | None = None,
    actor_type: str | None = None,
    actor_id: str | None = None,
    service_type: str = "billing",
    case_id: str | None = None,
    contact_id: str | None = None,
    parent: str | None = None,
    outcome: str | None = None,
    score: int | None = None,
    wait: float | None = None,
    handle: float | None = None,
    offset_minutes: int = 0,
    customer_id: str = "C1",
    customer_tz: str | None = None,
) -> Fact:
    """A fact at ``occurred`` (UTC microseconds); customer kinds come inbound from the
    customer, everything else goes outbound from an agent, unless told otherwise."""
    customer = kind in _CUSTOMER_KIND_VALUES
    return Fact(
        occurred=occurred,
        recorded=occurred,
        event_id=event_id,
        customer_id=customer_id,
        offset_minutes=offset_minutes,
        channel=channel,
        direction=direction or ("inbound" if customer else "outbound"),
        actor_type=actor_type or ("customer" if customer else "agent"),
        actor_id=actor_id,
        kind=kind,
        service_type=service_type,
        case_id=case_id,
        contact_id=contact_id,
        parent_event_id=parent,
        outcome=outcome,
        score=score,
        wait_seconds=wait,
        handle_seconds=handle,
        customer_tz=customer_tz,
    )


def arrival_histories(
    data: st.DataObject,
    facts: list[Fact],
    delay: st.SearchStrategy[int],
    chunk: st.SearchStrategy[int],
) -> list[list[Fact]]:
    """Successive histories as ``facts`` arrive, in chunks, some of them late (each history is
    a new sorted list, so a late arrival lands in the middle of it): what an incremental fold
    sees batch after batch."""
    delays = [data.draw(delay, label="delay") for _ in facts]
    order = sorted(range(len(facts)), key=lambda i: (i + delays[i], i))
    known: list[Fact] = []
    histories, position = [], 0
    while position < len(order):
        step = data.draw(chunk, label="chunk")
        known.extend(facts[i] for i in order[position : position + step])
        position += step
        histories.append(in_event_time_order(known))
    return histories


def fact_of(tp: Touchpoint) -> Fact:
    """A touchpoint as the journey view's fact columns give it."""
    offset = tp.occurred_at.utcoffset()
    return Fact(
        occurred=int(tp.occurred_at.timestamp() * 1_000_000),
        recorded=int(tp.recorded_at.timestamp() * 1_000_000),
        event_id=str(tp.event_id),
        customer_id=tp.customer_id,
        offset_minutes=int(offset.total_seconds() // 60) if offset else 0,
        channel=tp.channel.value,
        direction=tp.direction.value,
        actor_type=tp.actor.type.value,
        actor_id=tp.actor.id,
        kind=tp.kind.value,
        service_type=tp.service_type,
        case_id=tp.case_id,
        contact_id=tp.contact_id,
        parent_event_id=tp.parent_event_id,
        outcome=tp.outcome.value if tp.outcome else None,
        score=tp.score,
        wait_seconds=tp.wait_seconds,
        handle_seconds=tp.handle_seconds,
        customer_tz=tp.attributes.get("customer_tz"),
    )
