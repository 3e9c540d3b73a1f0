"""The journey / audit view: every touchpoint, per customer in event-time order.

``ReplacingMergeTree ORDER BY (customer_id, occurred_at, event_id)``: a row's key is the
touchpoint itself, so a re-delivered batch (projector crash before its position commit) only
replaces rows with identical copies, and every read uses ``FINAL`` so results never depend on
when background merges run. Enumerations are ``LowCardinality`` strings rather than ClickHouse
``Enum`` so that a symbol added to the taxonomy later needs no ALTER.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from clickhouse_connect.driver.exceptions import ClickHouseError
from fastavro import schemaless_reader

from events.log import LogRecord
from events.taxonomy import CUSTOMER_INITIATED_KINDS
from projections.clickhouse import ViewStore
from projections.facts import Fact
from projections.inbox import (
    PARTITION_SQL,
    POSITION_SQL,
    ContainerFramer,
    clickhouse_columns,
    split_by_schema,
)
from projections.journey import JOURNEY_COLUMNS, JourneyEntry, entry_from_row
from schemas.registry import FileSchemaRegistry
from schemas.serde import TOUCHPOINT_SUBJECT

__all__ = ["FactColumns", "JourneySummary", "JourneyView", "Undecodable", "facts_from_columns"]

logger = logging.getLogger(__name__)

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
#: How each journey column is computed from the Avro record (the inbox row), in ClickHouse.
_FROM_AVRO: dict[str, str] = {
    "partition": PARTITION_SQL,
    "position": POSITION_SQL,
    "source_system": "source.system",
    "source_event_id": "source.event_id",
    "id_phone": "identifiers.phone",
    "id_email": "identifiers.email",
    "id_account": "identifiers.account",
    "id_social": "identifiers.social",
    "personal_key_id": "personal.key_id",
    "personal_nonce": "personal.nonce",
    "personal_ciphertext": "personal.ciphertext",
    "actor_type": "actor.type",
    "actor_id": "actor.id",
    "attachments": "toJSONString(arrayMap(a -> [a.uri, a.media_type, a.sha256], attachments))",
}
#: Columns of :class:`Fact` field values, in field order (empty when there are no rows).
FactColumns = list[Sequence[Any]]

_BINARY = ("personal_nonce", "personal_ciphertext")
_SELECT = ", ".join(f"`{name}`" for name in JOURNEY_COLUMNS)
#: The :class:`~projections.facts.Fact` fields, in order, as journey columns.
_FACT_SELECT = ", ".join(
    (
        "toUnixTimestamp64Micro(occurred_at)",
        "toUnixTimestamp64Micro(recorded_at)",
        "toString(event_id)",
        "customer_id",
        "occurred_offset_minutes",
        "channel",
        "direction",
        "actor_type",
        "actor_id",
        "kind",
        "service_type",
        "case_id",
        "contact_id",
        "parent_event_id",
        "outcome",
        "score",
        "wait_seconds",
        "handle_seconds",
        "nullIf(attributes['customer_tz'], '')",
    )
)
#: Older writers lack newer fields (defaults fill them); ReplacingMergeTree's collapse at insert
#: and parallel parsing cost more than they save on batches of this size (measured: -45%).
#: The tie-break of :func:`projections.facts.order_key`: the customer's action first.
_CUSTOMER_KINDS_SQL = (
    "(" + ", ".join(f"'{k.value}'" for k in sorted(CUSTOMER_INITIATED_KINDS)) + ")"
)
_AVRO_SETTINGS = {
    "input_format_avro_allow_missing_fields": 1,
    "optimize_on_insert": 0,
    "input_format_parallel_parsing": 0,
}


@dataclass(frozen=True, slots=True)
class Undecodable:
    """A log record that does not decode: where it is and why (it is skipped, never lost)."""

    partition: int
    position: int
    event_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class JourneySummary:
    """Touchpoint counts by channel and by kind (deduplicated rows only)."""

    total: int
    by_channel: dict[str, int]
    by_kind: dict[str, int]


class JourneyView:
    """The ``journey`` table: every touchpoint, decoded by ClickHouse from the log's Avro.

    Writes go through ``journey_inbox`` (a ``Null`` table shaped like the Avro record) and the
    materialised view ``journey_from_inbox``, which flattens each record into a journey row; the
    projector then reads the batch back as :class:`~projections.facts.Fact` tuples for the
    per-customer folds. The skip index on (partition, position) makes that read-back touch only
    the parts the batch wrote.
    """

    name = "journey"

    def __init__(self, store: ViewStore, registry: FileSchemaRegistry | None = None) -> None:
        self.store = store
        self.table = store.table(self.name)
        self._inbox = store.table("journey_inbox")
        self._mv = store.table("journey_from_inbox")
        self._registry = registry or FileSchemaRegistry.load()
        self._schemas = {
            schema_id: self._registry.raw(schema_id)
            for schema_id in self._registry.versions(TOUCHPOINT_SUBJECT)
        }
        self._framers: dict[int, ContainerFramer] = {}

    def ensure(self) -> None:
        columns = ",\n  ".join(f"`{name}` {_TYPES[name]}" for name in JOURNEY_COLUMNS)
        self.store.command(
            f"CREATE TABLE IF NOT EXISTS {self.table} (\n  {columns},\n"
            "  INDEX log_position (partition, position) TYPE minmax GRANULARITY 1\n) "
            "ENGINE = ReplacingMergeTree ORDER BY (customer_id, occurred_at, event_id)"
        )
        latest = self._schemas[max(self._schemas)]
        inbox = ", ".join(f"`{name}` {kind}" for name, kind in clickhouse_columns(latest))
        self.store.command(f"CREATE TABLE IF NOT EXISTS {self._inbox} ({inbox}) ENGINE = Null")
        select = ", ".join(
            f"CAST({_FROM_AVRO.get(name, f'`{name}`')} AS {_TYPES[name]}) AS `{name}`"
            for name in JOURNEY_COLUMNS
        )
        self.store.command(
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {self._mv} TO {self.table} "
            f"AS SELECT {select} FROM {self._inbox}"
        )

    def reset(self) -> None:
        self.store.command(f"TRUNCATE TABLE IF EXISTS {self.table}")

    # -- writes ----------------------------------------------------------------------------

    def write(self, records: Sequence[LogRecord]) -> list[Undecodable]:
        """Decode and store ``records``; those that do not decode are returned, not stored."""
        groups, unframed = split_by_schema(records, self._schemas)
        bad = [_undecodable(record, why) for record, why in unframed]
        for schema_id, group in groups.items():
            bad.extend(self._write_group(schema_id, group))
        return bad

    def _write_group(self, schema_id: int, records: list[LogRecord]) -> list[Undecodable]:
        try:
            self._insert(schema_id, records)
            return []
        except ClickHouseError:
            # One corrupt body fails the whole container: find the culprits, keep the rest.
            good, bad = self._sort_out(schema_id, records)
            if good:
                self._insert(schema_id, good)
            return bad

    def _insert(self, schema_id: int, records: list[LogRecord]) -> None:
        framer = self._framers.get(schema_id)
        if framer is None:
            framer = self._framers[schema_id] = ContainerFramer(self._schemas[schema_id])
        self.store.client.raw_insert(
            self._inbox, None, framer.container(records), settings=_AVRO_SETTINGS, fmt="Avro"
        )

    def _sort_out(
        self, schema_id: int, records: list[LogRecord]
    ) -> tuple[list[LogRecord], list[Undecodable]]:
        schema = self._registry.schema(schema_id)
        good: list[LogRecord] = []
        bad: list[Undecodable] = []
        for record in records:
            try:
                body = BytesIO(record.value[5:])
                schemaless_reader(body, schema, None)
                if body.read(1):
                    raise ValueError("trailing bytes after the Avro record")
                good.append(record)
            except Exception as exc:  # any failure to decode is reported, never fatal
                bad.append(_undecodable(record, f"{type(exc).__name__}: {exc}"[:500]))
        return good, bad

    # -- facts for the folds -----------------------------------------------------------------

    def facts_at(self, partition: int, first: int, last: int) -> list[Fact]:
        """The facts of the touchpoints read from ``partition`` at positions ``first..last``."""
        return facts_from_columns(self.fact_columns_at(partition, first, last))

    def fact_columns_at(self, partition: int, first: int, last: int) -> FactColumns:
        """:meth:`facts_at` as columns of plain values, one per :class:`Fact` field: what a fold
        worker process receives (lists of strings and numbers pickle several times faster than
        named tuples, and the worker builds the tuples on its own core)."""
        return self._fact_columns(
            "partition = {partition:UInt32} AND position BETWEEN {first:UInt64} AND {last:UInt64}",
            {"partition": partition, "first": first, "last": last},
        )

    def facts_in(self, ranges: Mapping[int, tuple[int, int]]) -> list[Fact]:
        """:meth:`facts_at` of several partitions in one query: ``ranges`` maps a partition to
        its first and last position (a chdb round trip costs ~10 ms however little it reads,
        and a live pass reads a few records of every partition)."""
        return facts_from_columns(self.fact_columns_in(ranges))

    def fact_columns_in(self, ranges: Mapping[int, tuple[int, int]]) -> FactColumns:
        """:meth:`facts_in` as columns (see :meth:`fact_columns_at`)."""
        if not ranges:
            return []
        if len(ranges) == 1:
            ((partition, (first, last)),) = ranges.items()
            return self.fact_columns_at(partition, first, last)
        where = " OR ".join(
            f"(partition = {int(partition)} AND position BETWEEN {int(first)} AND {int(last)})"
            for partition, (first, last) in sorted(ranges.items())
        )
        return self._fact_columns(where, {})

    def facts_of(self, customers: Iterable[str]) -> list[Fact]:
        """Every fact of ``customers`` in the view (duplicates possible, order not)."""
        return facts_from_columns(self.fact_columns_of(customers))

    def fact_columns_of(self, customers: Iterable[str]) -> FactColumns:
        """:meth:`facts_of` as columns (see :meth:`fact_columns_at`)."""
        wanted = sorted(set(customers))
        if not wanted:
            return []
        return self._fact_columns("customer_id IN {customers:Array(String)}", {"customers": wanted})

    def customers_with(self, kinds: Iterable[str], occurred_since: int) -> list[str]:
        """Customers with a touchpoint of one of ``kinds`` that occurred at or after
        ``occurred_since`` (µs): whose decisions may still fall due as time passes."""
        rows = self.store.rows(
            f"SELECT DISTINCT customer_id FROM {self.table} "
            "WHERE kind IN {kinds:Array(String)} "
            "AND occurred_at >= fromUnixTimestamp64Micro({since:Int64}, 'UTC') "
            "ORDER BY customer_id",
            {"kinds": sorted(set(kinds)), "since": occurred_since},
        )
        return [str(row[0]) for row in rows]

    def latest_recorded(self) -> int:
        """The latest ``recorded_at`` in the view (µs; 0 when empty): the stream time reached."""
        return int(
            self.store.scalar(
                f"SELECT ifNull(max(toUnixTimestamp64Micro(recorded_at)), 0) FROM {self.table}"
            )
        )

    def _fact_columns(self, where: str, parameters: dict[str, Any]) -> FactColumns:
        result = self.store.client.query(
            f"SELECT {_FACT_SELECT} FROM {self.table} WHERE {where}", parameters=parameters
        )
        return list(result.result_columns)

    # -- reads -----------------------------------------------------------------------------

    def timeline(self, customer_id: str, limit: int | None = None) -> list[JourneyEntry]:
        """The customer's touchpoints in event-time order (ties: recorded_at, then event id)."""
        sql = (
            f"SELECT {_SELECT} FROM {self.table} FINAL WHERE customer_id = {{customer:String}} "
            f"ORDER BY occurred_at, recorded_at, kind NOT IN {_CUSTOMER_KINDS_SQL}, "
            "toString(event_id)"
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

    def customer_ids(self) -> list[str]:
        """Every customer with a touchpoint, sorted."""
        rows = self.store.rows(
            f"SELECT DISTINCT customer_id FROM {self.table} ORDER BY customer_id"
        )
        return [str(row[0]) for row in rows]

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


#: Fact fields whose values repeat across a batch (a customer's id, an agent, a case, a
#: contact; the UTC offset and durations, numbers too big for Python's small-int cache):
#: one object per value instead of one per row. Histories of a million facts stay in memory,
#: and this halves what they cost.
_REPEATING = tuple(
    Fact._fields.index(name)
    for name in (
        "customer_id",
        "actor_id",
        "case_id",
        "contact_id",
        "offset_minutes",
        "wait_seconds",
        "handle_seconds",
    )
)
_EVENT_ID = Fact._fields.index("event_id")
_PARENT = Fact._fields.index("parent_event_id")
_OCCURRED = Fact._fields.index("occurred")
_RECORDED = Fact._fields.index("recorded")


def facts_from_columns(columns: FactColumns) -> list[Fact]:
    """Facts from columns of field values (see :meth:`JourneyView.fact_columns_at`)."""
    if not columns:
        return []
    return list(map(Fact._make, zip(*_shared(columns), strict=True)))


def _shared(columns: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
    """``columns`` with equal values of repeating fields as one object, and parent ids as the
    parent's own event-id object when the parent is in the batch."""
    shared = list(columns)
    for index in _REPEATING:
        seen: dict[Any, Any] = {}
        shared[index] = [seen.setdefault(value, value) for value in columns[index]]
    ids = {event_id: event_id for event_id in columns[_EVENT_ID]}
    shared[_PARENT] = [ids.get(parent, parent) for parent in columns[_PARENT]]
    # Most touchpoints are recorded when they occur: one integer object for both times.
    shared[_RECORDED] = [
        occurred if recorded == occurred else recorded
        for occurred, recorded in zip(columns[_OCCURRED], columns[_RECORDED], strict=True)
    ]
    return shared


def _undecodable(record: LogRecord, reason: str) -> Undecodable:
    logger.warning(
        "journey: record %s at partition %d position %d does not decode (%s)",
        record.event_id,
        record.partition,
        record.position,
        reason,
    )
    return Undecodable(record.partition, record.position, record.event_id, reason)
