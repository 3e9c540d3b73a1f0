"""Rebuilds: the views and the decisions replayed from position 0 beside the live ones.

**Views.** The log is projected from position 0 into a *shadow* ClickHouse database (same
tables, same SQL, same folds) while the live views keep answering. Once the shadow has caught
up with the log, the live projector's lock is taken (it finishes its pass; no pass starts), the
shadow takes the last records, and each rebuilt table is exchanged with its live twin by
``EXCHANGE TABLES``, which ClickHouse's Atomic databases do atomically, one table at a time
(a reader sees the old table or the new one, never a half-written one). When every view is
rebuilt the positions table is exchanged too, carrying the other consumers' positions (the
risk engine's) over, so the new views and their positions always go together.

The views' *generation* (a position of consumer ``<name>@generation``) is bumped by every swap:
a projector that sees it change drops its cached fold state, which described the old tables.
In one process (the embedded default: chdb serves one process per data directory) the lock
makes the swap exact. A projector in another process (a ClickHouse server deployment) sees the
new generation at its next pass; see the README for how to run a rebuild there.

**Decisions.** Decisions are not rows to swap: people acted on them (acknowledged, resolved)
and the outbox published them. The risk engine is replayed from position 0 over the journey
into a *shadow decision store* (in memory by default), then its decision ids are compared with
production's, customer by customer. Rules are pure functions of event time, so the two are
identical unless the rules changed; then :func:`reconcile` applies the difference through the
ordinary, idempotent path: a decision production already holds is never applied or published
again, a new one is applied (and published) once, a vanished one is withdrawn.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from events.log import PositionStore
from projections.clickhouse import ViewStore
from projections.folding import FoldView
from projections.policy import ProjectionConfig
from projections.positions import ClickHousePositionStore, consumer_key
from projections.projector import ProjectionStats, Projector
from projections.risk import RuleSet
from projections.risk.decisions import Decision
from projections.views.fold_table import FoldTableView
from projections.views.journey_view import JourneyView

__all__ = [
    "DecisionComparison",
    "DecisionStore",
    "RebuiltDecisions",
    "SwappedViews",
    "ViewsFactory",
    "compare",
    "rebuild_decisions",
    "rebuild_views",
    "reconcile",
]

logger = logging.getLogger(__name__)

#: Builds the journey view and the fold views of a store (the same classes and configuration
#: as the live ones, see :meth:`services.platform.Platform.views_in`).
ViewsFactory = Callable[[ViewStore], tuple[JourneyView, list[FoldView]]]
#: Why a rebuild withdraws a production decision.
WITHDRAWN_BY_REBUILD = "no longer holds: a rebuild from position 0 under the current rules"


@dataclass(frozen=True, slots=True)
class SwappedViews:
    """What a views rebuild did: the tables swapped in, the projection, the new generation."""

    tables: tuple[str, ...]
    stats: ProjectionStats
    generation: int
    seconds: float
    positions_swapped: bool


def rebuild_views(
    live: Projector,
    factory: ViewsFactory,
    names: Sequence[str] | None = None,
    *,
    shadow_database: str | None = None,
    on_caught_up: Callable[[], None] | None = None,
) -> SwappedViews:
    """Project ``live.log`` from position 0 into shadow tables and swap them in (module doc).

    ``names`` selects the views (default: all of them). The journey is always projected into
    the shadow, since the folds read their histories there, but swapped in only if selected.
    ``on_caught_up`` runs once the shadow has caught up, before the swap (tests use it to
    check the live views still answer as before).
    """
    started = time.perf_counter()
    store = live.journey.store
    shadow = ViewStore(store.client, shadow_database or f"{store.database}__rebuild")
    shadow.drop()
    shadow.ensure()
    try:
        projector = _shadow_projector(live, shadow, factory, names)
        try:
            stats = _catch_up(projector)
            if on_caught_up is not None:
                on_caught_up()
            with live.lock:
                stats = stats + projector.run_once()
                swap_journey = names is None or live.journey.name in names
                tables, whole = _swap(live, projector, swap_journey)
            live.forget()
        finally:
            projector.close()
    finally:
        shadow.drop()
    generation = live.generation()
    logger.info("rebuilt and swapped in %s (generation %d)", ", ".join(tables), generation)
    return SwappedViews(tables, stats, generation, time.perf_counter() - started, whole)


def _shadow_projector(
    live: Projector, shadow: ViewStore, factory: ViewsFactory, names: Sequence[str] | None
) -> Projector:
    journey, folds = factory(shadow)
    known = {journey.name, *(view.name for view in folds)}
    wanted = set(names) if names else known
    unknown = wanted - known
    if unknown:
        raise ValueError(
            f"no view named {', '.join(sorted(unknown))}: the views are {', '.join(sorted(known))}"
        )
    chosen = [view for view in folds if view.name in wanted]
    return Projector(
        live.log,
        shadow,
        journey=journey,
        folds=chosen,
        name=live.name,
        batch_size=live.batch_size,
        max_facts=live.max_facts,
        fold_process=live.fold_process if chosen else False,
    )


def _catch_up(projector: Projector) -> ProjectionStats:
    """Project until a pass finds nothing new (records appended meanwhile are taken too)."""
    total = ProjectionStats()
    while True:
        stats = projector.run_once()
        total = total + stats
        if stats.batches == 0:
            return total


def _swap(live: Projector, shadow: Projector, swap_journey: bool) -> tuple[tuple[str, ...], bool]:
    """Exchange the rebuilt tables with the live ones (under the live projector's lock) and
    bump the generation; returns the swapped views and whether the positions went with them."""
    live_tables = {live.journey.name: live.journey.table}
    live_tables.update((view.name, _table_of(view)) for view in live.folds.views)
    rebuilt = {shadow.journey.name: shadow.journey.table}
    rebuilt.update((view.name, _table_of(view)) for view in shadow.folds.views)
    selected = [shadow.journey.name] if swap_journey else []
    selected += [view.name for view in shadow.folds.views]
    whole = set(selected) == set(live_tables)
    was, positions = live.positions.current(live.name)
    generation = was + 1
    pairs = [(live_tables[name], rebuilt[name]) for name in selected]
    if whole:
        # The new views come with their own positions, under the new generation's key.
        target = shadow.positions
        target.commit(consumer_key(live.name, generation), shadow.committed())
        live.positions.copy_to(target, except_consumer=live.name)
        pairs.append((live.positions.table, target.table))
    else:
        # The live positions stay; they move to the new generation's key.
        target = live.positions
        target.commit(consumer_key(live.name, generation), positions)
    target.commit(live.generation_consumer, {0: generation})
    store = live.journey.store
    for mine, theirs in pairs:
        store.command(f"EXCHANGE TABLES {mine} AND {theirs}")
    return tuple(selected), whole


def _table_of(view: FoldView) -> str:
    """The fully qualified table of a fold view (every view the projector runs is a
    :class:`~projections.views.fold_table.FoldTableView`)."""
    if not isinstance(view, FoldTableView):
        raise TypeError(f"view {view.name} keeps no table to swap")
    return view.rows.table


# -- decisions -----------------------------------------------------------------------------


class DecisionStore(Protocol):
    """What a decisions rebuild needs of the production store (:class:`DecisionsApp`)."""

    def decision_ids(self, customers: Iterable[str]) -> dict[str, set[str]]: ...

    def record(self, decisions: Sequence[Decision]) -> list[Decision]: ...

    def withdraw(self, decisions: Iterable[tuple[str, str]], reason: str) -> int: ...


@dataclass(frozen=True, slots=True)
class DecisionComparison:
    """Decision ids in force per customer: production against a rebuild from position 0."""

    customers: int
    production: int
    rebuilt: int
    only_rebuilt: dict[str, tuple[str, ...]] = field(default_factory=dict)
    only_production: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        return not self.only_rebuilt and not self.only_production


@dataclass(frozen=True, slots=True)
class RebuiltDecisions:
    """A decisions rebuild: the comparison, and the rebuilt decisions by id (to reconcile)."""

    comparison: DecisionComparison
    decisions: Mapping[str, Decision]
    facts: int
    seconds: float


class _ShadowPositions(PositionStore):
    """Positions of a shadow consumer: its own kept in memory, the upstream's read live, so a
    rebuild never writes into the live positions table."""

    def __init__(self, live: ClickHousePositionStore) -> None:
        self._live = live
        self._mine: dict[str, dict[int, int]] = {}

    def ensure(self) -> None:
        """Nothing to create: the live table exists and the shadow's are in memory."""

    def current(self, name: str) -> tuple[int, dict[int, int]]:
        return self._live.current(name)

    def get(self, consumer: str) -> dict[int, int]:
        return dict(self._mine.get(consumer, {}))

    def commit(self, consumer: str, positions: Mapping[int, int]) -> None:
        mine = self._mine.setdefault(consumer, {})
        for partition, position in positions.items():
            mine[partition] = max(position, mine.get(partition, 0))

    def reset(self, consumer: str) -> None:
        self._mine.pop(consumer, None)


def rebuild_decisions(
    journey: JourneyView,
    positions: ClickHousePositionStore,
    production: DecisionStore,
    rules: RuleSet,
    config: ProjectionConfig,
    *,
    partitions: int,
    upstream: str = "views",
    batch_size: int = 50_000,
    shadow_url: str = "memory:",
) -> RebuiltDecisions:
    """Replay the risk engine from position 0 into a shadow store and compare (module doc).

    The shadow reads the journey up to the projector's committed positions, as production's
    engine does; nothing is written to the production store, the positions table or a topic.
    """
    from services.decisions import DecisionsApp
    from services.decisions.engine import RiskEngine

    started = time.perf_counter()
    shadow_app = DecisionsApp(shadow_url)
    try:
        engine = RiskEngine(
            journey,
            _ShadowPositions(positions),
            shadow_app,
            rules,
            config,
            partitions=partitions,
            name="risk-rebuild",
            upstream=upstream,
            batch_size=batch_size,
        )
        stats = engine.run_once()
        customers = journey.customer_ids()
        rebuilt = shadow_app.decision_ids(customers)
        decided = {d.decision_id: d for d in stats.applied}
    finally:
        shadow_app.close()
    comparison = compare(customers, production.decision_ids(customers), rebuilt)
    return RebuiltDecisions(comparison, decided, stats.facts, time.perf_counter() - started)


def compare(
    customers: Sequence[str],
    production: Mapping[str, set[str]],
    rebuilt: Mapping[str, set[str]],
) -> DecisionComparison:
    """Per customer, the decision ids only one side holds."""
    only_rebuilt: dict[str, tuple[str, ...]] = {}
    only_production: dict[str, tuple[str, ...]] = {}
    for customer in customers:
        mine, theirs = production.get(customer, set()), rebuilt.get(customer, set())
        if theirs - mine:
            only_rebuilt[customer] = tuple(sorted(theirs - mine))
        if mine - theirs:
            only_production[customer] = tuple(sorted(mine - theirs))
    return DecisionComparison(
        customers=len(customers),
        production=sum(len(ids) for ids in production.values()),
        rebuilt=sum(len(ids) for ids in rebuilt.values()),
        only_rebuilt=only_rebuilt,
        only_production=only_production,
    )


def reconcile(production: DecisionStore, rebuilt: RebuiltDecisions) -> tuple[int, int]:
    """Bring production to the rebuilt decisions: apply the new ones (published once, by the
    outbox), withdraw the vanished; returns (applied, withdrawn). Identical: nothing at all."""
    comparison = rebuilt.comparison
    new = [rebuilt.decisions[i] for ids in comparison.only_rebuilt.values() for i in ids]
    applied = len(production.record(new)) if new else 0
    gone = [(c, i) for c, ids in comparison.only_production.items() for i in ids]
    withdrawn = production.withdraw(gone, WITHDRAWN_BY_REBUILD) if gone else 0
    return applied, withdrawn
