"""The production event log: one Kafka topic keyed by customer, through kafka-python.

A thin, typed façade in the quix-streams style: nothing is opened until first use, connection
attempts are bounded and retried with backoff, ``flush()`` / ``close()`` / ``with`` are explicit,
and every ``kafka.errors`` exception is translated at this boundary into
:class:`~events.errors.LogUnavailable` (the broker cannot be reached) or
:class:`~events.errors.LogError` (it answered, but the operation failed), naming the bootstrap
address so an operator knows which broker to look at.

The pieces live in private modules: :mod:`events.log._kafka_topic` (the clients and the error
mapping), :mod:`events.log._id_index` (the dedup index) and :mod:`events.log._indexed_topic`
(the two together, also the base of :class:`events.deadletter.kafka.KafkaDeadLetterStore`).

**Placement.** The partition is chosen here with :func:`events.log.partition_for` (Kafka's
murmur2 default partitioner) and passed explicitly, so the embedded and Kafka backends put a
customer in the same partition and one customer's events stay in order.

**Idempotence by event id.** Kafka's idempotent producer only removes duplicates caused by its
own retries; it knows nothing about our event ids. So a local dedup index (a SQLite file at
``index_path``: ``event_id -> (partition, offset)``) answers "was this id appended before?".
Ids found there, and repeats within one batch, are reported as duplicates with their original
partition / position and are not produced.

**Ordering and durability: produce first, index second.** ``append`` sends the batch with
``acks="all"``, waits until *every* record is acknowledged (``flush`` then each future), and only
then writes the ids and their real offsets into the index. The trade-off, chosen on purpose:

* a crash (or a broker error) *between* the acknowledgement and the index write leaves records
  in the topic that the index does not know; if the caller re-submits them they are produced a
  second time. The topic may therefore hold a **duplicate**, never a **gap**: consumers (the
  projector) already dedupe by the ``event_id`` header, so a duplicate is harmless;
* the opposite order (index first) could record an id whose record never reached the broker,
  and a retry would then be reported as "duplicate" while the event is not in the log: a lost
  event, which the design forbids.

Records of a partly failed batch that *were* acknowledged are still indexed before the error is
raised, so retrying the whole batch re-sends only what is missing.

The index is a cache of facts that live in the topic (each record carries its id in the
``event_id`` header), so it runs with ``synchronous=NORMAL`` in WAL mode: a power cut can lose
its last transactions, which at worst turns a later re-submission into one more duplicate in the
topic, exactly the case above. :meth:`KafkaEventLog.rebuild_index` recreates it from the topic.
The index must stay cheap next to the producer (the ingest target is >= 60% of a raw
kafka-python producer): ids are looked up in batched ``IN (...)`` queries over 16-byte digests,
inserted with one sorted ``executemany`` per batch, and that insert runs on a writer thread
(after the acknowledgement, so the rule above holds) overlapping the next batch's produce; ids
waiting for it are held in memory so duplicates are recognised as soon as ``append`` returns.
Measured on the 2-core dev box: ~2 µs (lookup) + ~5 µs (insert) per entry, against ~20 µs for
kafka-python to send the record.

One process owns an index file (appends are serialised by a lock inside the process); two
writers with two indexes on one topic would not see each other's ids.

**Reading.** A dedicated consumer without a group (``enable_auto_commit=False``) is assigned
the one partition asked for and seeks to the position (skipped when it already stands there, so
paging through a partition costs no extra round trip). The end of a partition is a poll that
returns nothing within ``poll_timeout_ms``: the broker's ``end_offsets`` / ``offsets_for_times``
answers are not trusted (tansu's are wrong) and consumer positions are stored by us, in a
:class:`~events.log.sqlite.SqlitePositionStore` beside the index, never in a consumer group.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Self

import kafka.errors as kafka_errors

from events.errors import ConfigurationError, LogError
from events.log import Appended, Entry, EventLog, LogRecord, PositionStore, partition_for
from events.log._id_index import IdIndex, id_digest
from events.log._indexed_topic import IndexedTopic
from events.log._kafka_topic import KafkaTopic
from events.log.sqlite import SqlitePositionStore
from events.log.sqlite import connect as connect_sqlite

# The port (KafkaEventLog), its config and constants. IdIndex, KafkaTopic and id_digest live in
# the private modules above and are re-exported so imports from before the split keep working.
__all__ = [
    "DEFAULT_TOPIC",
    "EVENT_ID_HEADER",
    "IdIndex",
    "KafkaEventLog",
    "KafkaLogConfig",
    "KafkaTopic",
    "id_digest",
]

DEFAULT_TOPIC = "servicetrace.touchpoints.v1"
EVENT_ID_HEADER = "event_id"

#: ``partition_for`` is pure-Python murmur2 (~5 µs a key); customers recur, so cache it.
_placement = lru_cache(maxsize=1 << 16)(partition_for)


@dataclass(frozen=True, slots=True)
class KafkaLogConfig:
    """Where the log lives and how hard to try.

    ``bootstrap`` is positional; everything else is keyword-only. ``partitions`` and
    ``replication`` apply when the topic is created; an existing topic keeps its own count.
    """

    bootstrap: str
    _: KW_ONLY
    index_path: Path
    topic: str = DEFAULT_TOPIC
    partitions: int = 6
    replication: int = 1
    compression: str | None = "lz4"
    client_id: str = "servicetrace"
    #: A poll that returns nothing within this time marks the end of a partition.
    poll_timeout_ms: int = 300
    #: How long the broker may hold an empty fetch; keep it well under ``poll_timeout_ms``.
    fetch_max_wait_ms: int = 100
    #: End a read as soon as it stands at the high watermark of the fetch that brought its last
    #: records, instead of confirming the end with an empty poll (a whole ``poll_timeout_ms``
    #: per partition read). For a follower that reads again anyway (the live projector): the
    #: watermark can be a prefetch old, so records appended since then wait for its next read.
    #: Off by default, so a one-off read ends at a fresh empty poll.
    end_at_highwater: bool = False
    linger_ms: int = 5
    batch_size: int = 1024 * 1024
    #: Bootstrap budget of one connection attempt, number of attempts, backoff between them.
    connect_timeout_ms: int = 5000
    connect_attempts: int = 3
    retry_backoff_ms: int = 250
    #: How long one request may wait for the broker's answer.
    request_timeout_ms: int = 10000
    #: Upper bound for a batch to be acknowledged (Kafka's own default is two minutes).
    delivery_timeout_ms: int = 30000
    #: Where a record's event id is read from. ``None``: an ``event_id`` header on every record
    #: (works for any payload). A function of the value: no header at all, because kafka-python
    #: builds headers in pure Python and one header costs ~25% of producer throughput; the
    #: touchpoint topic passes :func:`schemas.serde.touchpoint_event_id` (the id is the Avro
    #: record's first field, so it is read without decoding the rest).
    event_id_of: Callable[[bytes], str] | None = None

    def __post_init__(self) -> None:
        if self.partitions < 1 or self.replication < 1 or self.connect_attempts < 1:
            raise ConfigurationError(
                "partitions, replication and connect_attempts must be at least 1"
            )
        if self.fetch_max_wait_ms >= self.poll_timeout_ms:
            raise ConfigurationError(
                f"fetch_max_wait_ms ({self.fetch_max_wait_ms}) must be below poll_timeout_ms "
                f"({self.poll_timeout_ms}) or an empty fetch looks like the end of a partition"
            )
        if self.delivery_timeout_ms <= self.linger_ms + self.request_timeout_ms:
            raise ConfigurationError(
                f"delivery_timeout_ms ({self.delivery_timeout_ms}) must exceed linger_ms + "
                f"request_timeout_ms ({self.linger_ms + self.request_timeout_ms})"
            )


class KafkaEventLog(IndexedTopic, EventLog):
    """The event-log port on a Kafka topic (see the module docstring for the guarantees)."""

    def __init__(self, config: KafkaLogConfig) -> None:
        super().__init__(config)
        self._positions: SqlitePositionStore | None = None
        self._positions_db: sqlite3.Connection | None = None

    @classmethod
    def connect(cls, bootstrap: str, index_path: Path | str, **options: Any) -> Self:
        """Shorthand for ``KafkaEventLog(KafkaLogConfig(bootstrap, index_path=..., ...))``."""
        return cls(KafkaLogConfig(bootstrap, index_path=Path(index_path), **options))

    @property
    def partitions(self) -> int:  # type: ignore[override]  # read-only: fixed by the topic
        """The topic's partition count (connects and creates the topic on first access)."""
        return self._topic.partitions

    def append(self, entries: Sequence[Entry]) -> list[Appended]:
        if not entries:
            return []
        with self._lock:
            partitions = self.partitions
            index = self._ids()
            digests = [id_digest(e.event_id) for e in entries]
            known = index.lookup(digests)
            results: list[Appended | None] = [None] * len(entries)
            first_in_batch: dict[bytes, int] = {}
            sent: list[int] = []  # positions in ``entries`` of the records produced
            rows: list[tuple[int, bytes, bytes, list[tuple[str, bytes]] | None]] = []
            for i, (entry, digest) in enumerate(zip(entries, digests, strict=True)):
                hit = known.get(digest)
                if hit is not None:
                    results[i] = Appended(entry.event_id, hit[0], hit[1], duplicate=True)
                elif digest not in first_in_batch:
                    first_in_batch[digest] = i
                    sent.append(i)
                    key = entry.key
                    rows.append(
                        (
                            _placement(key, partitions),
                            key.encode(),
                            entry.value,
                            self._headers(entry),
                        )
                    )
                # else: a repeat within the batch, resolved below from its first copy
            offsets, error = self._topic.produce(rows)
            acked: list[tuple[bytes, int, int]] = []
            for i, row, offset in zip(sent, rows, offsets, strict=True):
                if offset is not None:
                    acked.append((digests[i], row[0], offset))
                    results[i] = Appended(entries[i].event_id, row[0], offset, duplicate=False)
            # Index what the broker acknowledged, even when part of the batch failed: a retry
            # of the whole batch then re-sends only the records that are really missing.
            index.record_later(acked)
            if error is not None:
                action = f"appending ({len(acked)} of {len(rows)} records acknowledged)"
                if not isinstance(error, kafka_errors.KafkaError):
                    raise LogError(
                        f"Kafka at {self.config.bootstrap} failed while {action}: {error!r}"
                    ) from error
                with self._topic.boundary(action):
                    raise error
            if None in results:
                for i, entry in enumerate(entries):
                    if results[i] is None:
                        first = results[first_in_batch[digests[i]]]
                        assert first is not None
                        results[i] = Appended(
                            entry.event_id, first.partition, first.position, duplicate=True
                        )
            return [r for r in results if r is not None]

    def _headers(self, entry: Entry) -> list[tuple[str, bytes]] | None:
        if self.config.event_id_of is not None:
            return None
        return [(EVENT_ID_HEADER, entry.event_id.encode())]

    def _event_id(self, value: bytes, headers: Sequence[tuple[str, bytes]] | None) -> str:
        if self.config.event_id_of is not None:
            try:
                return self.config.event_id_of(value)
            except Exception:
                return ""
        return next((v.decode() for k, v in headers or () if k == EVENT_ID_HEADER), "")

    def read(self, partition: int, position: int, limit: int = 1000) -> list[LogRecord]:
        out: list[LogRecord] = []
        for record in self._topic.read(partition, position, limit):
            event_id = self._event_id(record.value, record.headers)
            if not event_id:
                raise LogError(
                    f"record {self.config.topic}/{partition}@{record.offset} at "
                    f"{self.config.bootstrap} carries no readable event id"
                )
            key = record.key.decode() if record.key is not None else ""
            out.append(LogRecord(partition, record.offset, key, event_id, record.value))
        return out

    def rebuild_index(self) -> int:
        """Recreate the dedup index from the topic's ``event_id`` headers; returns ids indexed.

        The first occurrence of an id wins, matching what ``append`` reported for it.
        """
        with self._lock:
            index = self._ids()
            index.clear()
            for partition in range(self.partitions):
                rows = [
                    (id_digest(r.event_id), r.partition, r.position)
                    for r in self.read_all(partition)
                ]
                index.record(rows)
            return index.count()

    @property
    def positions(self) -> PositionStore:
        if self._positions is None:
            path = self.config.index_path
            path.parent.mkdir(parents=True, exist_ok=True)
            self._positions_db = connect_sqlite(path.with_name(path.stem + ".positions.db"))
            self._positions = SqlitePositionStore(self._positions_db)
        return self._positions

    def flush(self) -> None:
        """Every ``append`` already waits for acks=all; this also settles the dedup index."""
        self._topic.flush()
        if self._index is not None:
            self._index.sync()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._positions_db is not None:
                self._positions_db.close()
                self._positions_db = None
                self._positions = None
