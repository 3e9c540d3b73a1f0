"""The unified customer view: descriptive, behavioural and relational facts about one customer.

Pure domain code over one customer's facts in event-time order. It keeps what does not depend on
"now": counts, first and last contact, preferred channel, self-service share, satisfaction,
complaints. Figures relative to a moment (recency, complaints in the last 90 days, open
episodes) are computed when the view is read, against an explicit as-of time (by default the
latest event time in the views), so the stored profile never goes stale and never reads a
clock. Identifiers stay hashed here; the CLI masks personal data when it shows a profile.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from events.taxonomy import CUSTOMER_INITIATED_KINDS
from projections.facts import Fact

__all__ = ["CustomerProfile", "profile_of"]

_CUSTOMER_KINDS = frozenset(kind.value for kind in CUSTOMER_INITIATED_KINDS)


@dataclass(frozen=True, slots=True)
class CustomerProfile:
    """What the customer view stores per customer (times are UTC microseconds)."""

    customer_id: str
    first_contact_at: int
    last_contact_at: int
    touchpoints: int
    contacts: int
    inbound: int
    outbound: int
    by_channel: tuple[tuple[str, int], ...]
    preferred_channel: str | None
    self_service_share: float | None
    feedback_count: int
    average_satisfaction: float | None
    complaints: int
    last_complaint_at: int | None
    service_types: tuple[str, ...]


def profile_of(facts: Sequence[Fact]) -> CustomerProfile:
    """The profile of the customer whose facts, in event-time order, are ``facts`` (non-empty)."""
    facing = [fact for fact in facts if fact.direction != "internal"]
    initiated = [
        fact for fact in facing if fact.direction == "inbound" and fact.kind in _CUSTOMER_KINDS
    ]
    by_channel = Counter(fact.channel for fact in facing)
    scores = [fact.score for fact in facts if fact.score is not None]
    complaints = [fact.occurred for fact in facts if fact.kind == "complaint"]
    contacted = facing or list(facts)
    return CustomerProfile(
        customer_id=facts[0].customer_id,
        first_contact_at=contacted[0].occurred,
        last_contact_at=contacted[-1].occurred,
        touchpoints=len(facts),
        contacts=len(facing),
        inbound=sum(1 for fact in facing if fact.direction == "inbound"),
        outbound=sum(1 for fact in facing if fact.direction == "outbound"),
        by_channel=tuple(sorted(by_channel.items())),
        preferred_channel=_preferred(initiated),
        self_service_share=_share(initiated),
        feedback_count=len(scores),
        average_satisfaction=sum(scores) / len(scores) if scores else None,
        complaints=len(complaints),
        last_complaint_at=complaints[-1] if complaints else None,
        service_types=tuple(sorted({fact.service_type for fact in facts})),
    )


def _preferred(initiated: list[Fact]) -> str | None:
    """The channel the customer chose most often (ties: the one used most recently)."""
    if not initiated:
        return None
    counts = Counter(fact.channel for fact in initiated)
    last_use = {fact.channel: index for index, fact in enumerate(initiated)}
    return max(counts, key=lambda channel: (counts[channel], last_use[channel]))


def _share(initiated: list[Fact]) -> float | None:
    if not initiated:
        return None
    return sum(1 for fact in initiated if fact.kind == "self_service") / len(initiated)
