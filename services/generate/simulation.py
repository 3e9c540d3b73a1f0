"""The running simulation: the shared random stream, the pending heap, per-customer state.

Why a heap: an episode is drafted in full when it starts, but its records are recorded over
days (follow-ups, late-syncing field reports, scanned letters). Drafted records wait in a heap
keyed by recorded time and leave it in order once their day is over, so the feed is in live
order while memory holds only what is still pending plus a byte per customer.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from typing import Any

from .clock import Clock
from .customers import ACTIVITY, AREAS, activity, profile
from .episode import Episode
from .systems import CRM_FIELDS, KNOWN_FIELDS

#: A drafted record waiting for its recorded time:
#: (recorded, seq, occurred, customer, system, source id, fields in output order).
_Pending = tuple[int, int, int, int, str, str, dict[str, Any]]


class Simulation:
    """The running simulation: random stream, pending heap and small per-customer state."""

    def __init__(self, customers: int, days: int, seed: int, clock: Clock) -> None:
        self.customers, self.days, self.seed, self.clock = customers, days, seed, clock
        self.rng = random.Random(seed)
        self.heap: list[_Pending] = []
        self.seq = 0
        self.episodes = 0
        self.end = clock.midnight(days)
        self.areas = max(1, min(len(AREAS), customers // 25))
        self.grudges = bytearray(customers)  # bad experiences so far (capped at 255)

    def episode(self, customer: int, service: str) -> Episode:
        self.episodes += 1
        return Episode(self, customer, service, self.episodes)

    def push(
        self,
        *,
        recorded: int,
        occurred: int,
        customer: int,
        system: str,
        sid: str,
        fields: dict[str, Any],
    ) -> None:
        """Queue a drafted record; one recorded after the horizon never enters the feed."""
        if recorded < self.end:
            self.seq += 1
            heapq.heappush(self.heap, (recorded, self.seq, occurred, customer, system, sid, fields))

    def pick_customer(self) -> int:
        """A customer drawn in proportion to activity (rejection sampling: no weight table)."""
        top = ACTIVITY[-1][1]
        while True:
            customer = self.rng.randrange(self.customers)
            if self.rng.random() * top < activity(self.seed, customer):
                return customer

    def grudge(self, customer: int) -> None:
        self.grudges[customer] = min(255, self.grudges[customer] + 1)

    def drain(self, until: int) -> Iterator[dict[str, Any]]:
        """Emit, in recorded order, every pending record recorded before ``until``."""
        while self.heap and self.heap[0][0] < until:
            yield self.materialise(heapq.heappop(self.heap))

    def materialise(self, pending: _Pending) -> dict[str, Any]:
        recorded, _, occurred, customer, system, sid, fields = pending
        record: dict[str, Any] = {
            "source": {"system": system, "event_id": sid},
            "customer": self.customer_block(customer, system, fields["channel"]),
            "occurred_at": self.clock.iso(occurred),
            "recorded_at": self.clock.iso(recorded),
        }
        record.update(fields)
        return record

    def customer_block(self, customer: int, system: str, channel: str) -> dict[str, str]:
        """The customer as the source system knows them (an IVR knows only the number)."""
        person = profile(self.seed, customer, self.area_name(customer))
        block = {"id": person["id"]}
        known = CRM_FIELDS if system == "crm" else KNOWN_FIELDS.get(channel, CRM_FIELDS)
        for key in known:
            block[key] = person[key]
        return block

    def area(self, customer: int) -> int:
        return customer % self.areas

    def area_name(self, customer: int) -> str:
        return AREAS[(self.area(customer) + self.seed) % len(AREAS)]
