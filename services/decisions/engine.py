"""The risk engine's runtime: keeps the decisions current with what the projector has seen.

A consumer of the projector's output, not of the raw log: it reads the facts of the log
positions the projector has committed (journey view) from its own committed positions
(consumer ``risk``, kept beside the views), so it never decodes a record twice and never sees
a touchpoint the views do not have. Per batch:

1. the **stream time** moves to the latest ``recorded_at`` seen (never the wall clock);
2. the customers the batch touched, plus those whose next decision has fallen due by the new
   stream time (an SLA deadline, a flag's expiry), are refolded by a
   :class:`~projections.folding.FoldRunner` whose one view, :class:`RiskView`, turns a history
   into decisions (:func:`projections.risk.assess`) and diffs them against the decisions the
   customer already has;
3. new decisions are applied to the aggregates (:class:`DecisionsApp.record`, idempotent by
   decision id) and vanished ones withdrawn; only then the position is committed.

A crash before step 3's commit re-delivers the batch; the decisions it re-derives have the same
ids and are skipped, so the effect is exactly once. After a restart the pending deadlines are
found again from the journey: customers with a complaint or feedback recent enough for a
deadline or an expiry still to come.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from projections.facts import DAY_US, HOUR_US, Fact
from projections.folding import FoldRunner
from projections.policy import ProjectionConfig
from projections.risk import RuleSet, assess
from projections.risk.decisions import Decision
from projections.views.journey_view import JourneyView
from services.decisions.application import DecisionsApp

__all__ = ["RiskEngine", "RiskStats", "RiskView", "TrackedPositions"]

logger = logging.getLogger(__name__)

#: Why the engine takes a decision back.
WITHDRAWN = "no longer holds: a touchpoint that arrived late changed the history"
#: Kinds whose decisions can fall due later (SLA deadlines, flag expiry).
_TIMED_KINDS = ("complaint", "feedback")


class TrackedPositions(Protocol):
    """Where the engine keeps its positions and finds the projector's (the positions table,
    or a rebuild's shadow that keeps its own in memory)."""

    def ensure(self) -> None: ...

    def get(self, consumer: str) -> dict[int, int]: ...

    def current(self, name: str) -> tuple[int, dict[int, int]]:
        """The generation of ``name``'s views and its positions in it (the projector's)."""

    def commit(self, consumer: str, positions: Mapping[int, int]) -> None: ...


class RiskView:
    """The risk rules as a fold view: rows are decisions, the store is :class:`DecisionsApp`."""

    name = "risk"

    def __init__(self, app: DecisionsApp, rules: RuleSet, config: ProjectionConfig) -> None:
        self.app = app
        self.rules = rules
        self.config = config
        #: Stream time (µs) the next folds assess against; set by the engine before folding.
        self.stream_time = 0
        #: Customer → when their next decision falls due, from the folds since last asked.
        self.next_due: dict[str, int | None] = {}
        self.applied: list[Decision] = []
        self.withdrawn = 0

    def ensure(self) -> None:
        """Nothing to create: the application creates its tables."""

    def reset(self) -> None:
        """Decisions are never emptied: people's actions on them live there too."""

    def fold(self, facts: Sequence[Fact], scratch: dict[str, Any]) -> dict[Hashable, Any]:
        if not facts:
            return {}
        assessment = assess(facts, self.rules, self.config, self.stream_time)
        self.next_due[facts[0].customer_id] = assessment.next_due
        return {decision.decision_id: decision for decision in assessment.decisions}

    def upsert(self, rows: Sequence[Any], version: int) -> None:
        self.applied.extend(self.app.record(rows))

    def retract(self, keys: Iterable[tuple[str, Hashable]], version: int) -> None:
        pairs = [(customer, str(key)) for customer, key in keys]
        if pairs:
            self.withdrawn += self.app.withdraw(pairs, WITHDRAWN)

    def keys_of(self, customers: Sequence[str]) -> dict[str, set[Hashable]]:
        return {c: set(ids) for c, ids in self.app.decision_ids(customers).items()}

    def max_version(self) -> int:
        """0 while the store holds no decision (then a customer first seen has none either)."""
        return 0 if self.app.recorder.max_notification_id() is None else 1


@dataclass(slots=True)
class RiskStats:
    """What one pass did."""

    facts: int = 0
    batches: int = 0
    customers: int = 0
    refolded_for_time: int = 0
    applied: list[Decision] = field(default_factory=list)
    withdrawn: int = 0
    positions: dict[int, int] = field(default_factory=dict)
    stream_time: int = 0


class RiskEngine:
    """Folds the journey's new facts into decisions; see the module doc."""

    def __init__(
        self,
        journey: JourneyView,
        positions: TrackedPositions,
        app: DecisionsApp,
        rules: RuleSet,
        config: ProjectionConfig,
        *,
        partitions: int,
        name: str = "risk",
        upstream: str = "views",
        batch_size: int = 50_000,
        max_facts: int = 1_000_000,
    ) -> None:
        self.journey = journey
        self.positions = positions
        self.app = app
        self.view = RiskView(app, rules, config)
        self.runner = FoldRunner(journey, [self.view], max_facts=max_facts)
        self.partitions = partitions
        self.name = name
        self.upstream = upstream
        self.batch_size = batch_size
        self._due: dict[str, int] = {}
        self._heap: list[tuple[int, str]] = []
        self._stream_time: int | None = None
        self._complete: set[int] = set()
        positions.ensure()

    @property
    def stream_time(self) -> int:
        return self._stream_time or 0

    def run_once(self) -> RiskStats:
        """Catch up with the projector's committed positions; emit what time made due."""
        stats = RiskStats()
        mine = self.positions.get(self.name)
        if self._stream_time is None:
            self._recover(mine)
        upstream = self.positions.current(self.upstream)[1]
        positions = {p: mine.get(p, 0) for p in range(self.partitions)}
        self._complete.update(p for p, position in positions.items() if position == 0)
        while ranges := self._next_ranges(positions, upstream):
            facts = self.journey.facts_in(ranges)
            self._step(facts, self._complete.issuperset(ranges), stats)
            moved = {partition: last + 1 for partition, (_, last) in ranges.items()}
            self.positions.commit(self.name, moved)
            positions.update(moved)
            stats.positions.update(moved)
            stats.batches += 1
        if self._heap and self._heap[0][0] <= self.stream_time:
            self._step([], False, stats)
        stats.stream_time = self.stream_time
        return stats

    def _next_ranges(
        self, positions: dict[int, int], upstream: dict[int, int]
    ) -> dict[int, tuple[int, int]]:
        """The next batch: up to ``batch_size`` positions, taken from the partitions in order.

        A batch spans partitions (a customer lives in one, so each customer's facts still come
        together): a live pass finds a few facts in every partition, and reading, folding and
        committing them once instead of once per partition saves a ClickHouse round trip or
        more per partition. The stream time moves once per batch, to its latest fact.
        """
        ranges: dict[int, tuple[int, int]] = {}
        room = self.batch_size
        for partition, position in positions.items():
            end = upstream.get(partition, 0)
            if position >= end or room == 0:
                continue
            last = min(end, position + room) - 1
            ranges[partition] = (position, last)
            room -= last - position + 1
        return ranges

    def _step(self, facts: list[Fact], complete: bool, stats: RiskStats) -> None:
        if facts:
            latest = max(fact.recorded for fact in facts)
            self._stream_time = max(self.stream_time, latest)
        due = self._pop_due()
        view = self.view
        view.stream_time = self.stream_time
        fold_stats, write = self.runner.fold(facts, complete_history=complete, also=due)
        write()
        stats.facts += len(facts)
        stats.customers += fold_stats.customers
        stats.refolded_for_time += len(due)
        stats.applied.extend(view.applied)
        stats.withdrawn += view.withdrawn
        view.applied, view.withdrawn = [], 0
        for customer_id, when in view.next_due.items():
            self._schedule(customer_id, when)
        view.next_due.clear()

    def _schedule(self, customer_id: str, when: int | None) -> None:
        if when is None:
            self._due.pop(customer_id, None)
            return
        if self._due.get(customer_id) != when:
            self._due[customer_id] = when
            heapq.heappush(self._heap, (when, customer_id))

    def _pop_due(self) -> list[str]:
        due = []
        while self._heap and self._heap[0][0] <= self.stream_time:
            when, customer_id = heapq.heappop(self._heap)
            if self._due.get(customer_id) == when:  # not a stale entry
                del self._due[customer_id]
                due.append(customer_id)
        return due

    def _recover(self, committed: dict[int, int]) -> None:
        """After a restart: the stream time reached and the customers whose decisions may
        still fall due (refolded at the next step, which reschedules them exactly)."""
        self._stream_time = self.journey.latest_recorded() if committed else 0
        if not committed:
            return
        rules = self.view.rules
        horizon = max(
            rules.sensitive_customer.expiry_days * DAY_US,
            rules.sla_overdue.deadline_hours * HOUR_US,
        )
        since = self.stream_time - round(horizon)
        for customer_id in self.journey.customers_with(_TIMED_KINDS, since):
            self._schedule(customer_id, 0)
