"""Projector positions kept in ClickHouse, beside the views they describe.

Keeping positions in the same store as the views is what makes the projector's effect
exactly-once without distributed transactions: the projector writes a batch's view rows first
and the next position after, so a crash in between re-delivers that batch, and the views'
ReplacingMergeTree keys absorb the repeat (idempotent-after).

The table is ``ReplacingMergeTree(position)``: the position is its own version, so the highest
committed position wins and committing a lower one is ignored, as the :class:`PositionStore`
port promises. Reads take ``max(position)`` so they never depend on background merges.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from events.log import PositionStore
from projections.clickhouse import ViewStore

__all__ = ["GENERATION_SUFFIX", "ClickHousePositionStore", "consumer_key"]

_TABLE = "positions"
#: The views' generation is kept as the position of consumer ``<name>@generation``.
GENERATION_SUFFIX = "@generation"


def consumer_key(name: str, generation: int) -> str:
    """Where consumer ``name`` keeps its positions in views of ``generation``.

    Positions are keyed by generation so that a rebuild's swap is safe against a projector in
    another process: one that has not seen the swap yet commits under its old key, which the
    new generation never reads, however late its commit lands.
    """
    return name if generation == 0 else f"{name}#{generation}"


class ClickHousePositionStore(PositionStore):
    """:class:`PositionStore` on a ClickHouse table of (consumer, partition) -> next position."""

    def __init__(self, store: ViewStore) -> None:
        self._store = store
        self._table = store.table(_TABLE)

    def ensure(self) -> None:
        """Create the positions table (idempotent)."""
        self._store.command(
            f"CREATE TABLE IF NOT EXISTS {self._table} ("
            " consumer LowCardinality(String), partition UInt32, position UInt64"
            ") ENGINE = ReplacingMergeTree(position) ORDER BY (consumer, partition)"
        )

    def get(self, consumer: str) -> dict[int, int]:
        return self.get_many([consumer]).get(consumer, {})

    def get_many(self, consumers: Sequence[str]) -> dict[str, dict[int, int]]:
        """The positions of several consumers in one query (those with none are absent): a
        chdb round trip costs milliseconds, and a live projector asks on every pass."""
        rows = self._store.rows(
            f"SELECT consumer, partition, max(position) FROM {self._table} "
            "WHERE consumer IN {consumers:Array(String)} GROUP BY consumer, partition",
            {"consumers": list(consumers)},
        )
        found: dict[str, dict[int, int]] = {}
        for consumer, partition, position in rows:
            found.setdefault(str(consumer), {})[int(partition)] = int(position)
        return found

    def current(self, name: str) -> tuple[int, dict[int, int]]:
        """The generation of consumer ``name``'s views and its positions in that generation,
        in one query (a live projector asks on every pass)."""
        generation_consumer = name + GENERATION_SUFFIX
        rows = self._store.rows(
            f"SELECT consumer, partition, max(position) FROM {self._table} "
            "WHERE consumer IN ({name:String}, {generation:String}) "
            "OR startsWith(consumer, {prefix:String}) GROUP BY consumer, partition",
            {"name": name, "generation": generation_consumer, "prefix": f"{name}#"},
        )
        found: dict[str, dict[int, int]] = {}
        for consumer, partition, position in rows:
            found.setdefault(str(consumer), {})[int(partition)] = int(position)
        generation = found.get(generation_consumer, {}).get(0, 0)
        return generation, found.get(consumer_key(name, generation), {})

    def copy_to(self, target: ClickHousePositionStore, *, except_consumer: str) -> None:
        """Copy every consumer's positions but ``except_consumer``'s (all its generations) into
        ``target``: a rebuild swaps in a new positions table, and the other consumers (the risk
        engine) must keep their place."""
        self._store.command(
            f"INSERT INTO {target._table} SELECT consumer, partition, max(position) "
            f"FROM {self._table} WHERE consumer NOT IN ({{name:String}}, {{generation:String}}) "
            "AND NOT startsWith(consumer, {prefix:String}) GROUP BY consumer, partition",
            {
                "name": except_consumer,
                "generation": except_consumer + GENERATION_SUFFIX,
                "prefix": f"{except_consumer}#",
            },
        )

    @property
    def table(self) -> str:
        """The fully qualified table name."""
        return self._table

    def commit(self, consumer: str, positions: Mapping[int, int]) -> None:
        if not positions:
            return
        # A plain INSERT statement: the generic column insert costs ~90 ms a call in chdb,
        # which a projector committing after every batch would pay thousands of times.
        values = ", ".join(
            f"({{consumer:String}}, {int(partition)}, {int(position)})"
            for partition, position in positions.items()
        )
        self._store.command(f"INSERT INTO {self._table} VALUES {values}", {"consumer": consumer})

    def reset(self, consumer: str) -> None:
        self._store.command(
            f"ALTER TABLE {self._table} DELETE WHERE consumer = {{consumer:String}} "
            "SETTINGS mutations_sync = 2",
            {"consumer": consumer},
        )
