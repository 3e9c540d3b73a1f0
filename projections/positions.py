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

from collections.abc import Mapping

from events.log import PositionStore
from projections.clickhouse import ViewStore

__all__ = ["ClickHousePositionStore"]

_TABLE = "positions"


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
        rows = self._store.rows(
            f"SELECT partition, max(position) FROM {self._table} "
            "WHERE consumer = {consumer:String} GROUP BY partition",
            {"consumer": consumer},
        )
        return {int(partition): int(position) for partition, position in rows}

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
