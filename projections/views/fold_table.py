"""A ClickHouse table holding the keyed rows of a per-customer fold, written idempotently.

Every fold view (scenes, compliance, customers) is a ``ReplacingMergeTree(version, deleted)``
ordered by ``(customer_id, key...)``: a row rewritten with a higher version replaces the older
one, a row that no longer exists (a late arrival merged two episodes) is retracted by a
``deleted = 1`` row, and every read uses ``FINAL`` so answers never depend on when background
merges run. Versions come from the projector's write sequence, which only grows (it restarts
above the highest version stored), so the last write always wins, also across restarts.

Rows travel as one JSON document per batch (``JSONCompactColumns``, built by orjson in one
call) into a ``Null`` inbox table; a materialised view turns microsecond integers into
``DateTime64`` columns. Measured: 5x faster than clickhouse-connect's row-by-row native
serialisation for rows with nested arrays.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from projections.clickhouse import ViewStore

__all__ = ["Column", "FoldTable", "FoldTableView", "Insert", "micros"]

_UTC_MICROS = "DateTime64(6, 'UTC')"


@dataclass(frozen=True, slots=True)
class Column:
    """A fold-table column: its table type, and how the inbox carries it when that differs."""

    name: str
    type: str
    inbox: str | None = None
    #: SQL over the inbox column (named like this column) giving the table value.
    expr: str | None = None

    @property
    def inbox_type(self) -> str:
        return self.inbox or self.type

    def select(self) -> str:
        source = self.expr or f"`{self.name}`"
        return f"CAST({source} AS {self.type}) AS `{self.name}`"


def micros(name: str, *, nullable: bool = False) -> Column:
    """A ``DateTime64(6, 'UTC')`` column fed with integer microseconds since the epoch."""
    table = f"Nullable({_UTC_MICROS})" if nullable else _UTC_MICROS
    inbox = "Nullable(Int64)" if nullable else "Int64"
    return Column(name, table, inbox, f"fromUnixTimestamp64Micro(`{name}`, 'UTC')")


class Insert(NamedTuple):
    """Encoded rows ready for a fold table's inbox: built by whoever folds (possibly a fold
    worker process without ClickHouse), sent by whoever holds the client."""

    names: tuple[str, ...] | None
    data: bytes
    fmt: str


class FoldTable:
    """The table of one fold view: upserts, retractions, keys per customer, checksums.

    ``key`` names the columns that, with ``customer_id``, identify a row; an empty ``key``
    means one row per customer, keyed by the customer id.
    """

    def __init__(
        self, store: ViewStore, name: str, key: Sequence[str], columns: Sequence[Column]
    ) -> None:
        if not columns or columns[0].name != "customer_id":
            raise ValueError("a fold table's first column is customer_id")
        self.store = store
        self.name = name
        self.table = store.table(name)
        self.key = tuple(key)
        self.columns = tuple(columns)
        self._inbox = store.table(f"{name}_inbox")
        self._mv = store.table(f"{name}_from_inbox")
        self._data_columns = ", ".join(f"`{column.name}`" for column in self.columns)

    def ensure(self) -> None:
        table_columns = ", ".join(f"`{c.name}` {c.type}" for c in self.columns)
        order = ", ".join(f"`{name}`" for name in ("customer_id", *self.key))
        self.store.command(
            f"CREATE TABLE IF NOT EXISTS {self.table} ({table_columns}, "
            "`version` UInt64, `deleted` UInt8) "
            f"ENGINE = ReplacingMergeTree(version, deleted) ORDER BY ({order})"
        )
        inbox_columns = ", ".join(f"`{c.name}` {c.inbox_type}" for c in self.columns)
        self.store.command(
            f"CREATE TABLE IF NOT EXISTS {self._inbox} ({inbox_columns}, "
            "`version` UInt64, `deleted` UInt8) ENGINE = Null"
        )
        select = ", ".join(column.select() for column in self.columns)
        self.store.command(
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {self._mv} TO {self.table} "
            f"AS SELECT {select}, `version`, `deleted` FROM {self._inbox}"
        )

    def reset(self) -> None:
        self.store.command(f"TRUNCATE TABLE IF EXISTS {self.table}")

    def upsert(self, rows: Sequence[Sequence[Any]], version: int) -> None:
        """Write ``rows`` (values in column order) as the current state of their keys."""
        self.send(self.encode_upsert(rows, version))

    def retract(self, keys: Iterable[tuple[str, Hashable]], version: int) -> None:
        """Delete the rows of ``keys`` (``(customer_id, key)`` pairs) as of ``version``."""
        self.send(self.encode_retract(keys, version))

    def encode_upsert(self, rows: Sequence[Sequence[Any]], version: int) -> Insert | None:
        """The insert of :meth:`upsert`, encoded but not sent (pure: no ClickHouse needed)."""
        if not rows:
            return None
        columns: list[list[Any]] = [list(column) for column in zip(*rows, strict=True)]
        columns.append([version] * len(rows))
        columns.append([0] * len(rows))
        return Insert(None, orjson.dumps(columns), "JSONCompactColumns")

    def encode_retract(self, keys: Iterable[tuple[str, Hashable]], version: int) -> Insert | None:
        """The insert of :meth:`retract`, encoded but not sent (pure: no ClickHouse needed)."""
        rows = [
            orjson.dumps([customer, *(_key_values(key) if self.key else ()), version, 1])
            for customer, key in keys
        ]
        if not rows:
            return None
        names = ("customer_id", *self.key, "version", "deleted")
        return Insert(names, b"\n".join(rows), "JSONCompactEachRow")

    def send(self, insert: Insert | None) -> None:
        """Write an encoded insert (nothing for ``None``)."""
        if insert is not None:
            names = list(insert.names) if insert.names is not None else None
            self.store.client.raw_insert(self._inbox, names, insert.data, fmt=insert.fmt)

    def keys_of(self, customers: Sequence[str]) -> dict[str, set[Hashable]]:
        """The live keys of each of ``customers`` (customers with none are absent)."""
        if not customers:
            return {}
        key_sql = ", ".join(f"`{name}`" for name in ("customer_id", *self.key))
        rows = self.store.rows(
            f"SELECT {key_sql} FROM {self.table} FINAL "
            "WHERE customer_id IN {customers:Array(String)}",
            {"customers": sorted(set(customers))},
        )
        found: dict[str, set[Hashable]] = {}
        for customer, *key in rows:
            found.setdefault(customer, set()).add(_key_of(customer, key))
        return found

    def max_version(self) -> int:
        return int(self.store.scalar(f"SELECT max(version) FROM {self.table}") or 0)

    def count(self) -> int:
        return int(self.store.scalar(f"SELECT count() FROM {self.table} FINAL"))

    def checksum(self) -> int:
        """Order-independent fingerprint of the live rows (versions left out), computed in
        ClickHouse: equal for two tables with the same content however it was written."""
        return int(
            self.store.scalar(
                f"SELECT cityHash64(count(), groupBitXor(cityHash64(tuple({self._data_columns}))))"
                f" FROM {self.table} FINAL"
            )
        )


def _key_of(customer: str, values: list[Any]) -> Hashable:
    """A row's key as the fold names it: the key column's value, a tuple of several, or the
    customer id itself for a table with one row per customer (no key columns)."""
    if not values:
        return customer
    return values[0] if len(values) == 1 else tuple(values)


def _key_values(key: Hashable) -> list[Any]:
    """The key columns' values of ``key`` (none for a one-row-per-customer table)."""
    if isinstance(key, tuple):
        return list(key)
    return [key]


class FoldTableView:
    """What every fold view delegates to its :class:`FoldTable` (``self.rows``).

    A subclass turns its fold's rows into column values in :meth:`encode_upsert`; writing is
    split into encoding (pure, so a fold worker process can do it) and sending (:meth:`send`,
    where the ClickHouse client is).
    """

    rows: FoldTable

    def encode_upsert(self, rows: Sequence[Any], version: int) -> Insert | None:
        raise NotImplementedError

    def encode_retract(self, keys: Iterable[tuple[str, Hashable]], version: int) -> Insert | None:
        return self.rows.encode_retract(keys, version)

    def send(self, insert: Insert | None) -> None:
        self.rows.send(insert)

    def upsert(self, rows: Sequence[Any], version: int) -> None:
        self.send(self.encode_upsert(rows, version))

    def ensure(self) -> None:
        self.rows.ensure()

    def reset(self) -> None:
        self.rows.reset()

    def retract(self, keys: Iterable[tuple[str, Hashable]], version: int) -> None:
        self.send(self.encode_retract(keys, version))

    def keys_of(self, customers: Sequence[str]) -> dict[str, set[Hashable]]:
        return self.rows.keys_of(customers)

    def max_version(self) -> int:
        return self.rows.max_version()

    def checksum(self) -> int:
        return self.rows.checksum()

    def count(self) -> int:
        return self.rows.count()
