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

__all__ = ["CustomerProfile", "ProfileFold", "profile_of"]

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
    return ProfileFold().profile(facts)


class ProfileFold:
    """The profile's running totals for one customer, kept between calls: when the history
    only grew at the end, only the new facts are counted; otherwise it starts over. (Counting
    the whole history on every batch made this fold quadratic in a customer's history.)"""

    def __init__(self) -> None:
        self._restart()

    def _restart(self) -> None:
        self._fed = 0
        self._last: Fact | None = None
        self._first_facing: int | None = None
        self._last_facing: int | None = None
        self._inbound = 0
        self._outbound = 0
        self._by_channel: Counter[str] = Counter()
        self._initiated: Counter[str] = Counter()
        self._last_use: dict[str, int] = {}
        self._self_service = 0
        self._scores: list[int] = []
        self._complaints = 0
        self._last_complaint: int | None = None
        self._service_types: set[str] = set()

    def profile(self, facts: Sequence[Fact]) -> CustomerProfile:
        fed = self._fed
        if not (fed and len(facts) >= fed and facts[fed - 1] is self._last):
            self._restart()
            fed = 0
        for fact in facts[fed:]:
            self._count(fact)
        self._fed = len(facts)
        self._last = facts[-1]
        return self._snapshot(facts)

    def _count(self, fact: Fact) -> None:
        self._service_types.add(fact.service_type)
        if fact.score is not None:
            self._scores.append(fact.score)
        if fact.kind == "complaint":
            self._complaints += 1
            self._last_complaint = fact.occurred
        if fact.direction == "internal":
            return
        if self._first_facing is None:
            self._first_facing = fact.occurred
        self._last_facing = fact.occurred
        self._by_channel[fact.channel] += 1
        if fact.direction == "outbound":
            self._outbound += 1
            return
        self._inbound += 1
        if fact.kind in _CUSTOMER_KINDS:
            self._initiated[fact.channel] += 1
            self._last_use[fact.channel] = sum(self._initiated.values())
            self._self_service += fact.kind == "self_service"

    def _snapshot(self, facts: Sequence[Fact]) -> CustomerProfile:
        initiated = sum(self._initiated.values())
        scores = self._scores
        return CustomerProfile(
            customer_id=facts[0].customer_id,
            first_contact_at=self._first_facing
            if self._first_facing is not None
            else facts[0].occurred,
            last_contact_at=self._last_facing
            if self._last_facing is not None
            else facts[-1].occurred,
            touchpoints=len(facts),
            contacts=self._inbound + self._outbound,
            inbound=self._inbound,
            outbound=self._outbound,
            by_channel=tuple(sorted(self._by_channel.items())),
            preferred_channel=max(
                self._initiated, key=lambda c: (self._initiated[c], self._last_use[c])
            )
            if initiated
            else None,
            self_service_share=self._self_service / initiated if initiated else None,
            feedback_count=len(scores),
            average_satisfaction=sum(scores) / len(scores) if scores else None,
            complaints=self._complaints,
            last_complaint_at=self._last_complaint,
            service_types=tuple(sorted(self._service_types)),
        )
