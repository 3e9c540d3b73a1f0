"""A customer's journey for people and programs: the journey view, with personal data opened
only as far as the reader may see it (masked on screen; erased customers show nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from events.errors import KeyDestroyed
from events.personal import PersonalVault, mask
from projections.journey import JourneyEntry

if TYPE_CHECKING:
    from projections.views.journey_view import JourneyView

__all__ = ["LATE_AFTER", "journey_json", "touchpoints_json"]

#: A touchpoint recorded this long after it occurred is a late arrival.
LATE_AFTER = timedelta(hours=1)


def _opened(vault: PersonalVault, entry: JourneyEntry) -> dict[str, str]:
    if entry.personal is None:
        return {}
    try:
        return vault.open(entry.customer_id, entry.personal)
    except KeyDestroyed:
        return {"note": "[erased]"}


def _actor(entry: JourneyEntry) -> str:
    return (
        f"{entry.actor_type.value}:{entry.actor_id}" if entry.actor_id else entry.actor_type.value
    )


def _touchpoint(entry: JourneyEntry, personal: dict[str, str]) -> dict[str, Any]:
    late = entry.recorded_at - entry.occurred_at
    return {
        "event_id": str(entry.event_id),
        "occurred_at": entry.occurred_at.isoformat(),
        "occurred_at_local": entry.occurred_at.strftime("%a %m-%d %H:%M"),
        "recorded_at": entry.recorded_at.isoformat(),
        "late_hours": round(late / timedelta(hours=1), 1) if late > LATE_AFTER else None,
        "channel": entry.channel.value,
        "direction": entry.direction.value,
        "actor": _actor(entry),
        "kind": entry.kind.value,
        "service_type": entry.service_type,
        "case_id": entry.case_id,
        "contact_id": entry.contact_id,
        "parent_event_id": entry.parent_event_id,
        "outcome": entry.outcome.value if entry.outcome else None,
        "score": entry.score,
        "wait_seconds": entry.wait_seconds,
        "handle_seconds": entry.handle_seconds,
        "words": personal.get("note") or entry.text,
        "attributes": entry.attributes,
        "position": {"partition": entry.partition, "position": entry.position},
    }


def journey_json(
    customer_id: str, entries: Sequence[JourneyEntry], vault: PersonalVault
) -> dict[str, Any]:
    """The journey as plain data; names and contact details are masked."""
    touchpoints = []
    who: dict[str, str] = {}
    for entry in entries:
        personal = _opened(vault, entry)
        who.update({k: v for k, v in personal.items() if k in ("name", "phone", "email")})
        touchpoints.append(_touchpoint(entry, personal))
    channels = list(dict.fromkeys(tp["channel"] for tp in touchpoints))
    return {
        "customer": {"id": customer_id, **{k: mask(v, keep=3) for k, v in who.items()}},
        "channels": channels,
        "touchpoints": touchpoints,
    }


def touchpoints_json(
    journey: JourneyView, vault: PersonalVault, customer_id: str, event_ids: Iterable[str]
) -> list[dict[str, Any]]:
    """The customer's touchpoints among ``event_ids`` (an alert's triggers, a scene's
    members), in journey order and shaped as :func:`journey_json`'s: what an alert or a scene
    shows beside its own figures."""
    wanted = set(event_ids)
    entries = [e for e in journey.timeline(customer_id) if str(e.event_id) in wanted]
    touchpoints: list[dict[str, Any]] = journey_json(customer_id, entries, vault)["touchpoints"]
    return touchpoints
