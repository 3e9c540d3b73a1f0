"""The journey / audit view: every touchpoint, per customer in event-time order.

``ReplacingMergeTree ORDER BY (customer_id, occurred_at, event_id)``: a row's key is the
touchpoint itself, so a re-delivered batch (projector crash before its position commit) only
replaces rows with identical copies, and every read uses ``FINAL`` so results never depend on
when background merges run. Enumerations are ``LowCardinality`` strings rather than ClickHouse
``Enum`` so that a symbol added to the taxonomy later needs no ALTER.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from projections.clickhouse import ViewStore
from projections.journey import (
    JOURNEY_COLUMNS,
    JourneyEntry,
    entry_from_row,
    journey_columns_from_avro,
    journey_row,
)
from projections.projector import Batch

__all__ = ["JourneySummary", "JourneyView"]

_TYPES: dict[str, str] = {
    "customer_id": "String",
    "occurred_at": "DateTime64(6, 'UTC')",
    "occurred_offset_minutes": "Int16",
    "recorded_at": "DateTime64(6, 'UTC')",
    "recorded_offset_minutes": "Int16",
    "event_id": "UUID",
    "partition": "UInt32",
    "position": "UInt64",
    "schema_version": "UInt16",
    "source_system": "LowCardinality(String)",
    "source_event_id": "Nullable(String)",
    "id_phone": "Nullable(String)",
    "id_email": "Nullable(String)",
    "id_account": "Nullable(String)",
    "id_social": "Nullable(String)",
    "personal_key_id": "Nullable(String)",
    "personal_nonce": "Nullable(String)",
    "personal_ciphertext": "Nullable(String)",
    "channel": "LowCardinality(String)",
    "direction": "LowCardinality(String)",
    "actor_type": "LowCardinality(String)",
    "actor_id": "Nullable(String)",
    "kind": "LowCardinality(String)",
    "service_type": "LowCardinality(String)",
    "case_id": "Nullable(String)",
    "contact_id": "Nullable(String)",
    "parent_event_id": "Nullable(String)",
    "outcome": "LowCardinality(Nullable(String))",
    "score": "Nullable(UInt8)",
    "wait_seconds": "Nullable(Float64)",
    "handle_seconds": "Nullable(Float64)",
    "text": "Nullable(String)",
    "attachments": "String",
    "attributes": "Map(String, String)",
}
_COLUMN_TYPES = tuple(_TYPES[name] for name in JOURNEY_COLUMNS)
_BINARY = ("personal_nonce", "personal_ciphertext")
_SELECT = ", ".join(f"`{name}`" for name in JOURNEY_COLUMNS)


@dataclass(frozen=True, slots=True)
class JourneySummary:
    """Touchpoint counts by channel and by kind (deduplicated rows only)."""

    total: int
    by_channel: dict[str, int]
    by_kind: dict[str, int]


class JourneyView:
    """The ``journey`` table: writes for the projector, reads for auditors and the demo."""

    name = "journey"
    needs_touchpoints = False

    def __init__(self, store: ViewStore) -> None:
        self.store = store
        self.table = store.table(self.name)

    def ensure(self) -> None:
        columns = ",\n  ".join(f"`{name}` {_TYPES[name]}" for name in JOURNEY_COLUMNS)
        self.store.command(
            f"CREATE TABLE IF NOT EXISTS {self.table} (\n  {columns}\n) "
            "ENGINE = ReplacingMergeTree ORDER BY (customer_id, occurred_at, event_id)"
        )

    def rows(self, batch: Batch) -> list[list[Any]]:
        """Column-oriented rows (one list per column), from the Avro records when the batch has
        them (the projector's fast path), else from the models."""
        partition = batch.partition
        if batch.records:
            return journey_columns_from_avro(partition, batch.positions, batch.records)
        rows = [
            journey_row(partition, position, tp)
            for position, tp in zip(batch.positions, batch.touchpoints, strict=True)
        ]
        return [list(column) for column in zip(*rows, strict=True)] if rows else []

    def insert(self, rows: list[list[Any]]) -> None:
        self.store.insert_columns(self.name, rows, JOURNEY_COLUMNS, _COLUMN_TYPES)

    def reset(self) -> None:
        self.store.command(f"TRUNCATE TABLE IF EXISTS {self.table}")

    # -- reads -----------------------------------------------------------------------------

    def timeline(self, customer_id: str, limit: int | None = None) -> list[JourneyEntry]:
        """The customer's touchpoints in event-time order (ties: recorded_at, then event id)."""
        sql = (
            f"SELECT {_SELECT} FROM {self.table} FINAL WHERE customer_id = {{customer:String}} "
            "ORDER BY occurred_at, recorded_at, event_id"
        )
        params: dict[str, Any] = {"customer": customer_id}
        if limit is not None:
            sql += " LIMIT {limit:UInt64}"
            params["limit"] = limit
        return [entry_from_row(row) for row in self.store.rows(sql, params, _BINARY)]

    def count(self) -> int:
        """Distinct touchpoints in the view."""
        return int(self.store.scalar(f"SELECT count() FROM {self.table} FINAL"))

    def summary(self) -> JourneySummary:
        """Counts by channel and by kind, computed in ClickHouse over deduplicated rows."""
        rows = self.store.rows(
            f"SELECT channel, kind, count() FROM {self.table} FINAL GROUP BY channel, kind"
        )
        by_channel: Counter[str] = Counter()
        by_kind: Counter[str] = Counter()
        for channel, kind, n in rows:
            by_channel[channel] += int(n)
            by_kind[kind] += int(n)
        return JourneySummary(sum(by_channel.values()), dict(by_channel), dict(by_kind))

    def checksum(self) -> int:
        """An order-independent fingerprint of the view's content, computed in ClickHouse.

        XOR of a hash per deduplicated row, mixed with the row count: equal for two views with
        the same rows whatever order or batching wrote them, so "killed and resumed" can be
        compared with "uninterrupted".
        """
        return int(
            self.store.scalar(
                f"SELECT cityHash64(count(), groupBitXor(cityHash64(tuple({_SELECT})))) "
                f"FROM {self.table} FINAL"
            )
        )

    def customers(self, limit: int = 10) -> list[tuple[str, int]]:
        """The customers with the most touchpoints, most first (ties by customer id)."""
        rows = self.store.rows(
            f"SELECT customer_id, count() AS n FROM {self.table} FINAL "
            "GROUP BY customer_id ORDER BY n DESC, customer_id LIMIT {limit:UInt64}",
            {"limit": limit},
        )
        return [(str(customer), int(n)) for customer, n in rows]

    def customer_count(self) -> int:
        """Distinct customers with at least one touchpoint."""
        return int(self.store.scalar(f"SELECT uniqExact(customer_id) FROM {self.table}"))

    def story_customer(self, max_touchpoints: int = 40) -> str:
        """The customer whose journey tells the most in a screenful: complaints after
        provider-side trouble, across the most channels and kinds (ties by id, so the choice is
        deterministic). Customers with more than ``max_touchpoints`` are passed over."""
        rows = self.store.rows(
            f"SELECT customer_id FROM {self.table} FINAL GROUP BY customer_id "
            "ORDER BY count() <= {most:UInt32} DESC, "
            "countIf(kind = 'appointment_missed') > 0 DESC, "
            "countIf(kind = 'complaint') > 0 DESC, "
            "uniqExact(channel) * uniqExact(kind) DESC, count() DESC, customer_id LIMIT 1",
            {"most": max_touchpoints},
        )
        if not rows:
            raise LookupError("the journey view is empty")
        return str(rows[0][0])
