"""Per-customer folds kept current batch by batch: histories, diffs and versioned writes.

The scene, compliance and customer views are functions of *one customer's whole history* in
event-time order. A batch of new touchpoints therefore changes only the customers it touches,
and for each of them the runner refolds the history (cheap: the scene fold memoises episodes
that did not change), compares the new keyed rows with the previous ones and writes only the
difference: changed rows upserted, vanished rows retracted (a late arrival can merge two
episodes, or end the silence that made a call a violation).

Histories live in a bounded LRU cache (``max_facts``). A customer not in the cache (first
seen, evicted, or after a restart) is loaded from the journey view, and its previous rows are
taken to be whatever keys the views hold for it: everything is rewritten and stale keys are
retracted. That is also what makes a restart exact: the journey view is written before the
folds, so after a crash it holds at least every touchpoint whose fold rows may have been
written, and refolding from it reproduces them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from projections.facts import Fact, in_event_time_order, order_key

__all__ = ["Changes", "FoldRunner", "FoldStats", "FoldView", "HistorySource", "StoredRows"]


class FoldView(Protocol):
    """A view whose rows are a pure function of one customer's facts."""

    name: str

    def ensure(self) -> None: ...

    def reset(self) -> None: ...

    def fold(self, facts: Sequence[Fact], scratch: dict[str, Any]) -> dict[Hashable, Any]:
        """The customer's rows by key (pure; ``scratch`` is the view's per-customer memo)."""

    def upsert(self, rows: Sequence[Any], version: int) -> None: ...

    def retract(self, keys: Iterable[tuple[str, Hashable]], version: int) -> None: ...

    def keys_of(self, customers: Sequence[str]) -> dict[str, set[Hashable]]: ...

    def max_version(self) -> int: ...


class HistorySource(Protocol):
    """Where cold histories come from (the journey view)."""

    def facts_of(self, customers: Iterable[str]) -> list[Fact]: ...


class StoredRows(Protocol):
    """What the views already hold: their live keys per customer and their highest version.

    In process the views answer themselves (:class:`_ViewsAnswer`); a fold worker process,
    which has no ClickHouse, asks the projector process instead.
    """

    def keys_of(self, view: str, customers: Sequence[str]) -> dict[str, set[Hashable]]: ...

    def max_version(self) -> int: ...


class _ViewsAnswer:
    """:class:`StoredRows` asked of the views themselves."""

    def __init__(self, views: Sequence[FoldView]) -> None:
        self._views = {view.name: view for view in views}

    def keys_of(self, view: str, customers: Sequence[str]) -> dict[str, set[Hashable]]:
        return self._views[view].keys_of(customers)

    def max_version(self) -> int:
        return max((view.max_version() for view in self._views.values()), default=0)


@dataclass(frozen=True, slots=True)
class Changes:
    """One batch's changed rows per view, to be written at ``version``."""

    version: int
    upserts: dict[str, list[Any]]
    retracts: dict[str, list[tuple[str, Hashable]]]


@dataclass(slots=True)
class _Customer:
    facts: list[Fact]
    rows: dict[str, dict[Hashable, Any] | _Cold]
    scratch: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class FoldStats:
    """What folding did: customers refolded, loaded cold, rows written and retracted."""

    customers: int = 0
    cold: int = 0
    upserted: int = 0
    retracted: int = 0

    def add(self, other: FoldStats) -> None:
        self.customers += other.customers
        self.cold += other.cold
        self.upserted += other.upserted
        self.retracted += other.retracted


class FoldRunner:
    """Applies batches of facts to the fold views."""

    def __init__(
        self,
        history: HistorySource,
        views: Sequence[FoldView],
        max_facts: int = 2_000_000,
        stored: StoredRows | None = None,
    ) -> None:
        self.views = list(views)
        self._history = history
        self._stored = stored or _ViewsAnswer(self.views)
        self._max_facts = max_facts
        self._cache: OrderedDict[str, _Customer] = OrderedDict()
        self._cached_facts = 0
        self._version: int | None = None
        #: Whether the views held no fold rows when this runner started writing.
        self._started_empty = False
        self._evicted: set[str] = set()

    def clear(self) -> None:
        """Forget every cached history (after a reset of the views)."""
        self._cache.clear()
        self._cached_facts = 0
        self._version = None
        self._evicted.clear()

    def apply(self, facts: Sequence[Fact], complete_history: bool = False) -> FoldStats:
        """Fold ``facts`` (one batch, any order) into every view, writing before returning."""
        stats, write = self.fold(facts, complete_history)
        write()
        return stats

    def fold(
        self,
        facts: Sequence[Fact],
        complete_history: bool = False,
        also: Iterable[str] = (),
    ) -> tuple[FoldStats, Callable[[], None]]:
        """Fold ``facts`` (one batch, any order); the changed rows are written by the returned
        callable, which the projector runs beside its next batch's work.

        ``complete_history`` says every earlier fact of these customers went through this
        runner (the projector read their partition from position 0 in this process). Then a
        customer the cache has never held is new: no history to load, and (when the views
        started empty) no stored rows to look up. That saves two queries per batch in a rebuild.

        ``also`` names customers to refold without new facts: a view whose rows depend on the
        passing of (stream) time, like the risk engine's deadlines, asks for them.
        """
        stats, changes = self.changes(facts, complete_history, also)
        if changes is None:
            return stats, _nothing
        return stats, partial(self.write, changes)

    def changes(
        self,
        facts: Sequence[Fact],
        complete_history: bool = False,
        also: Iterable[str] = (),
    ) -> tuple[FoldStats, Changes | None]:
        """What :meth:`fold` does, with the changed rows returned instead of a writer (``None``
        when nothing was folded): a fold worker process encodes them for the projector."""
        stats = FoldStats()
        touched = _by_customer(facts)
        refold = set(also) - touched.keys()
        for customer_id in refold:
            touched[customer_id] = []
        if not touched or not self.views:
            return stats, None
        version = self._next_version()
        unknown = [c for c in touched if c not in self._cache]
        first_seen: list[str] = []
        if complete_history and self._started_empty:
            # A customer refolded without new facts has a history somewhere: load it.
            first_seen = [c for c in unknown if c not in self._evicted and c not in refold]
            unknown = [c for c in unknown if c in self._evicted or c in refold]
        cold = self._load_cold(unknown, touched)
        stats.cold = len(cold)
        cold.update(self._start_new(first_seen, touched))
        upserts: dict[str, list[Any]] = {view.name: [] for view in self.views}
        retracts: dict[str, list[tuple[str, Hashable]]] = {view.name: [] for view in self.views}
        for customer_id, new in touched.items():
            state = cold.get(customer_id) or self._extend(customer_id, new)
            for view in self.views:
                self._refold(view, customer_id, state, upserts[view.name], retracts[view.name])
        for view in self.views:
            stats.upserted += len(upserts[view.name])
            stats.retracted += len(retracts[view.name])
        stats.customers = len(touched)
        self._evict()
        return stats, Changes(version, upserts, retracts)

    def write(self, changes: Changes) -> None:
        """Write ``changes`` into the views."""
        for view in self.views:
            # Retractions first: at equal versions the row inserted last wins, and a key
            # both retracted and rewritten (never, by construction) must stay alive.
            view.retract(changes.retracts[view.name], changes.version)
            view.upsert(changes.upserts[view.name], changes.version)

    def _next_version(self) -> int:
        if self._version is None:
            self._version = self._stored.max_version()
            self._started_empty = self._version == 0
        self._version += 1
        return self._version

    def _start_new(
        self, customers: list[str], touched: dict[str, list[Fact]]
    ) -> dict[str, _Customer]:
        started = {}
        for customer_id in customers:
            facts = in_event_time_order(touched[customer_id])
            rows: dict[str, dict[Hashable, Any] | _Cold] = {view.name: {} for view in self.views}
            started[customer_id] = self._cache[customer_id] = _Customer(facts, rows)
            self._cached_facts += len(facts)
        return started

    def _load_cold(
        self, customers: list[str], touched: dict[str, list[Fact]]
    ) -> dict[str, _Customer]:
        if not customers:
            return {}
        histories = _by_customer(self._history.facts_of(customers))
        stored = {view.name: self._stored.keys_of(view.name, customers) for view in self.views}
        loaded = {}
        for customer_id in customers:
            facts = in_event_time_order([*histories.get(customer_id, ()), *touched[customer_id]])
            rows: dict[str, dict[Hashable, Any] | _Cold] = {
                name: _Cold(keys.get(customer_id, ())) for name, keys in stored.items()
            }
            state = _Customer(facts, rows)
            loaded[customer_id] = self._cache[customer_id] = state
            self._cached_facts += len(facts)
        return loaded

    def _extend(self, customer_id: str, new: list[Fact]) -> _Customer:
        state = self._cache[customer_id]
        self._cache.move_to_end(customer_id)
        if not new:
            return state
        before = len(state.facts)
        fresh = in_event_time_order(new)
        if state.facts and order_key(fresh[0]) <= order_key(state.facts[-1]):
            state.facts = in_event_time_order([*state.facts, *fresh])  # a late arrival
        else:
            state.facts.extend(fresh)
        self._cached_facts += len(state.facts) - before
        return state

    def _refold(
        self,
        view: FoldView,
        customer_id: str,
        state: _Customer,
        upserts: list[Any],
        retracts: list[tuple[str, Hashable]],
    ) -> None:
        scratch = state.scratch.setdefault(view.name, {})
        rows = view.fold(state.facts, scratch)
        previous = state.rows.get(view.name)
        if previous is None or isinstance(previous, _Cold):
            # Unknown content: rewrite everything, retract the stored keys that are gone.
            upserts.extend(rows.values())
            stale = previous.keys if previous is not None else ()
            retracts.extend((customer_id, key) for key in stale if key not in rows)
        else:
            old = previous
            for key, row in rows.items():
                before = old.get(key)
                if before is not row and before != row:
                    upserts.append(row)
            retracts.extend((customer_id, key) for key in old if key not in rows)
        state.rows[view.name] = rows

    def _evict(self) -> None:
        while self._cached_facts > self._max_facts and len(self._cache) > 1:
            customer_id, state = self._cache.popitem(last=False)
            self._cached_facts -= len(state.facts)
            self._evicted.add(customer_id)


class _Cold:
    """Previous rows of a customer loaded cold: only their keys are known."""

    __slots__ = ("keys",)

    def __init__(self, keys: Iterable[Hashable]) -> None:
        self.keys = frozenset(keys)


def _nothing() -> None:
    """The write of an empty batch."""


def _by_customer(facts: Iterable[Fact]) -> dict[str, list[Fact]]:
    grouped: dict[str, list[Fact]] = {}
    for fact in facts:
        grouped.setdefault(fact.customer_id, []).append(fact)
    return grouped
