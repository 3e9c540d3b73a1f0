"""The production event log: one Kafka topic keyed by customer, through kafka-python.

A thin, typed façade in the quix-streams style: nothing is opened until first use, connection
attempts are bounded and retried with backoff, ``flush()`` / ``close()`` / ``with`` are explicit,
and every ``kafka.errors`` exception is translated at this boundary into
:class:`~events.errors.LogUnavailable` (the broker cannot be reached) or
:class:`~events.errors.LogError` (it answered, but the operation failed), naming the bootstrap
address so an operator knows which broker to look at.

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

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import KW_ONLY, dataclass
from functools import lru_cache
from hashlib import blake2b
from pathlib import Path
from typing import Any, Self, TypeVar

import kafka.errors as kafka_errors
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from events.errors import ConfigurationError, LogError, LogUnavailable
from events.log import Appended, Entry, EventLog, LogRecord, PositionStore, partition_for
from events.log.sqlite import SqlitePositionStore
from events.log.sqlite import connect as connect_sqlite

__all__ = [
    "DEFAULT_TOPIC",
    "EVENT_ID_HEADER",
    "KafkaEventLog",
    "KafkaLogConfig",
    "KafkaTopic",
    "id_digest",
]

DEFAULT_TOPIC = "servicetrace.touchpoints.v1"
EVENT_ID_HEADER = "event_id"

log = logging.getLogger(__name__)

T = TypeVar("T")

_LOOKUP_CHUNK = 500

#: ``partition_for`` is pure-Python murmur2 (~5 µs a key); customers recur, so cache it.
_placement = lru_cache(maxsize=1 << 16)(partition_for)

#: kafka-python failures that mean "the broker cannot be reached (now)": retriable errors
#: (timeouts, no leader, node not ready...) and connection errors. Looked up by name because
#: kafka-python 2.x and 3.x do not define the same set (3.x has no ``NoBrokersAvailable``).
_UNAVAILABLE: tuple[type[BaseException], ...] = tuple(
    cls
    for name in (
        "NoBrokersAvailable",
        "KafkaConnectionError",
        "KafkaTimeoutError",
        "NodeNotReadyError",
        "BrokerNotAvailableError",
        "RequestTimedOutError",
        "RetriableError",
    )
    if isinstance(cls := getattr(kafka_errors, name, None), type)
)


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


class KafkaTopic:
    """One topic's clients, opened lazily, with kafka-python errors translated.

    Shared by :class:`KafkaEventLog` and the Kafka dead-letter store: it creates the topic if
    missing, produces with explicit partitions and waits for every acknowledgement, and reads a
    partition from a position with a group-less consumer.
    """

    def __init__(self, config: KafkaLogConfig) -> None:
        self.config = config
        self._partitions: int | None = None
        self._producer: Any = None
        self._consumer: Any = None
        #: (partition, next offset) the consumer stands at, to skip redundant seeks.
        self._cursor: tuple[int, int] | None = None
        self._lock = threading.RLock()

    # -- errors and connections --------------------------------------------------------------

    @contextmanager
    def boundary(self, action: str) -> Iterator[None]:
        """Translate kafka-python exceptions raised while doing ``action``."""
        try:
            yield
        except _UNAVAILABLE as exc:
            raise LogUnavailable(
                f"Kafka at {self.config.bootstrap} is unavailable while {action} "
                f"(topic {self.config.topic!r}): {type(exc).__name__}: {exc}"
            ) from exc
        except kafka_errors.KafkaError as exc:
            raise LogError(
                f"Kafka at {self.config.bootstrap} failed while {action} "
                f"(topic {self.config.topic!r}): {type(exc).__name__}: {exc}"
            ) from exc

    def _connect(self, what: str, factory: Callable[[], T]) -> T:
        """Build a client, retrying connection failures a bounded number of times."""
        attempts = self.config.connect_attempts
        for attempt in range(1, attempts + 1):
            try:
                with self.boundary(f"connecting the {what}"):
                    return factory()
            except LogUnavailable as exc:
                if attempt == attempts:
                    raise LogUnavailable(
                        f"cannot reach Kafka at {self.config.bootstrap} "
                        f"after {attempts} attempt(s) ({what}): {exc.__cause__}"
                    ) from exc.__cause__
                delay = self.config.retry_backoff_ms * 2 ** (attempt - 1) / 1000
                log.warning(
                    "Kafka at %s not reachable (%s), attempt %d/%d, retrying in %.2fs",
                    self.config.bootstrap,
                    what,
                    attempt,
                    attempts,
                    delay,
                )
                time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _common(self) -> dict[str, Any]:
        return {
            "bootstrap_servers": self.config.bootstrap,
            "client_id": self.config.client_id,
            "bootstrap_timeout_ms": self.config.connect_timeout_ms,
            "request_timeout_ms": self.config.request_timeout_ms,
        }

    @property
    def partitions(self) -> int:
        """The topic's real partition count (creating the topic on first use if missing)."""
        with self._lock:
            if self._partitions is None:
                self._partitions = self._ensure_topic()
            return self._partitions

    def _ensure_topic(self) -> int:
        cfg = self.config
        admin = self._connect("admin client", lambda: KafkaAdminClient(**self._common()))
        try:
            with self.boundary("creating the topic"):
                try:
                    admin.create_topics([NewTopic(cfg.topic, cfg.partitions, cfg.replication)])
                    log.info("created topic %s with %d partitions", cfg.topic, cfg.partitions)
                except kafka_errors.TopicAlreadyExistsError:
                    pass
            with self.boundary("describing the topic"):
                (described,) = admin.describe_topics([cfg.topic])
            if described.get("error_code") or not described.get("partitions"):
                raise LogError(
                    f"Kafka at {cfg.bootstrap} cannot describe topic {cfg.topic!r}: {described}"
                )
            actual = len(described["partitions"])
        finally:
            with self.boundary("closing the admin client"):
                admin.close()
        if actual != cfg.partitions:
            log.warning(
                "topic %s exists with %d partitions, not the %d configured: using %d "
                "(a partition count is fixed for the life of a topic)",
                cfg.topic,
                actual,
                cfg.partitions,
                actual,
            )
        return actual

    def producer(self) -> Any:
        """The idempotent producer (acks=all), created on first use."""
        with self._lock:
            if self._producer is None:
                cfg = self.config
                self._producer = self._connect(
                    "producer",
                    lambda: KafkaProducer(
                        **self._common(),
                        acks="all",
                        enable_idempotence=True,
                        compression_type=cfg.compression,
                        linger_ms=cfg.linger_ms,
                        batch_size=cfg.batch_size,
                        delivery_timeout_ms=cfg.delivery_timeout_ms,
                        max_block_ms=cfg.delivery_timeout_ms,
                    ),
                )
            return self._producer

    def consumer(self) -> Any:
        """The group-less reading consumer, created on first use."""
        with self._lock:
            if self._consumer is None:
                cfg = self.config
                self._consumer = self._connect(
                    "consumer",
                    lambda: KafkaConsumer(
                        **self._common(),
                        group_id=None,
                        enable_auto_commit=False,
                        # A seek past the end is answered with nothing (see ``read``); never
                        # jump back to the start and hand out records before the position.
                        auto_offset_reset="latest",
                        fetch_max_wait_ms=cfg.fetch_max_wait_ms,
                        max_poll_records=5000,
                    ),
                )
            return self._consumer

    # -- produce -----------------------------------------------------------------------------

    def produce(
        self, rows: Sequence[tuple[int, bytes, bytes, list[tuple[str, bytes]] | None]]
    ) -> tuple[list[int | None], BaseException | None]:
        """Send ``(partition, key, value, headers)`` rows and wait for every acknowledgement.

        Returns the offset of each row (``None`` where it failed) and the first failure, so the
        caller can record what did reach the log before raising.
        """
        producer = self.producer()
        topic = self.config.topic
        futures: list[Any] = []
        error: BaseException | None = None
        try:
            send = producer.send
            for partition, key, value, headers in rows:
                futures.append(
                    send(topic, value=value, key=key, partition=partition, headers=headers)
                )
        except kafka_errors.KafkaError as exc:
            error = exc
        try:
            producer.flush(timeout=self.config.delivery_timeout_ms / 1000)
        except kafka_errors.KafkaError as exc:
            error = error or exc
        offsets: list[int | None] = []
        for future in futures:
            if future.is_done and future.exception is None:
                offsets.append(future.value.offset)
            else:
                offsets.append(None)
                if error is None:
                    error = future.exception or kafka_errors.KafkaTimeoutError(
                        "record not acknowledged in time"
                    )
        offsets.extend([None] * (len(rows) - len(futures)))
        return offsets, error

    def flush(self) -> None:
        with self._lock:
            if self._producer is not None:
                with self.boundary("flushing"):
                    self._producer.flush(timeout=self.config.delivery_timeout_ms / 1000)

    # -- consume -----------------------------------------------------------------------------

    def read(self, partition: int, position: int, limit: int) -> list[Any]:
        """Up to ``limit`` ConsumerRecords of ``partition`` from ``position`` on, in order."""
        if limit <= 0:
            return []
        if not 0 <= partition < self.partitions:
            raise LogError(
                f"partition {partition} does not exist in topic {self.config.topic!r} "
                f"({self.partitions} partitions)"
            )
        with self._lock, self.boundary(f"reading partition {partition} from {position}"):
            consumer = self.consumer()
            tp = TopicPartition(self.config.topic, partition)
            if self._cursor is None or self._cursor[0] != partition:
                consumer.assign([tp])
                consumer.seek(tp, position)
            elif self._cursor[1] != position:
                consumer.seek(tp, position)
            self._cursor = (partition, position)
            out: list[Any] = []
            timeout = self.config.poll_timeout_ms
            while len(out) < limit:
                batch = consumer.poll(timeout_ms=timeout, max_records=limit - len(out))
                records = [r for r in batch.get(tp, ()) if r.offset >= position]
                if not records:
                    break
                out.extend(records)
                position = records[-1].offset + 1
                self._cursor = (partition, position)
            return out

    def close(self) -> None:
        with self._lock:
            producer, consumer = self._producer, self._consumer
            self._producer = self._consumer = None
            self._cursor = None
            with self.boundary("closing"):
                if producer is not None:
                    producer.close(timeout=self.config.delivery_timeout_ms / 1000)
                if consumer is not None:
                    consumer.close()


def id_digest(key: str) -> bytes:
    """The 16-byte BLAKE2b digest an id is indexed by."""
    return blake2b(key.encode(), digest_size=16).digest()


def _open_index_db(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


class IdIndex:
    """A SQLite map ``id -> (partition, offset)``: what this process knows is in the topic.

    Rebuildable from the topic, hence ``synchronous=NORMAL`` (see the module docstring). It also
    remembers which topic it indexes, so an index is never silently reused for another topic.

    Ids are stored as their 16-byte BLAKE2b digest, not as text: measured on 200k random UUIDs
    in batches of 2,000, inserts cost ~4 µs a row against ~13 µs for the 36-character text key,
    and the file is half the size. A 128-bit digest collides with probability about n²/2¹²⁹
    (≈1e-15 after a trillion events), far below any hardware fault rate; the full id stays in
    each record's ``event_id`` header, which is what the index is rebuilt from.

    :meth:`record_later` hands acknowledged rows to a writer thread with its own connection, so
    the index write of one batch overlaps the produce of the next (SQLite releases the GIL while
    it works). Rows waiting for that write are kept in memory and consulted by :meth:`lookup`
    first, so duplicates are still recognised the moment ``append`` returns. Durability is
    unchanged: rows are only ever handed over after the broker acknowledged them.
    """

    def __init__(self, path: Path, topic: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        try:
            self._db = _open_index_db(path)
            self._db.executescript(
                """
                CREATE TABLE IF NOT EXISTS index_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS ids (
                    digest    BLOB    PRIMARY KEY,
                    partition INTEGER NOT NULL,
                    offset    INTEGER NOT NULL
                ) WITHOUT ROWID;
                """
            )
            self._db.execute(
                "INSERT OR IGNORE INTO index_meta(name, value) VALUES ('topic', ?)", (topic,)
            )
            (stored,) = self._db.execute(
                "SELECT value FROM index_meta WHERE name = 'topic'"
            ).fetchone()
        except sqlite3.Error as exc:
            raise LogUnavailable(f"cannot open the dedup index at {path}: {exc}") from exc
        if stored != topic:
            self._db.close()
            raise ConfigurationError(
                f"the dedup index at {path} belongs to topic {stored!r}, not {topic!r}"
            )
        self._pending: dict[bytes, tuple[int, int]] = {}
        self._pending_lock = threading.Lock()
        self._queue: queue.Queue[list[tuple[bytes, int, int]] | None] = queue.Queue(maxsize=2)
        self._writer: threading.Thread | None = None
        self._writer_error: BaseException | None = None

    def lookup(self, digests: Sequence[bytes]) -> dict[bytes, tuple[int, int]]:
        """Where each known digest is; unknown ones are absent. Batched ``IN (...)`` queries."""
        self._raise_writer_error()
        # Pending rows first: the writer drops a row from ``_pending`` only after its commit,
        # so a row missing here is visible to the query below.
        with self._pending_lock:
            found = {d: self._pending[d] for d in digests if d in self._pending}
        missing = [d for d in digests if d not in found]
        execute = self._db.execute
        for start in range(0, len(missing), _LOOKUP_CHUNK):
            chunk = missing[start : start + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            for digest, partition, offset in execute(
                f"SELECT digest, partition, offset FROM ids WHERE digest IN ({marks})", chunk
            ):
                found[digest] = (partition, offset)
        return found

    def record(self, rows: Sequence[tuple[bytes, int, int]]) -> None:
        """Write ``(digest, partition, offset)`` rows now; a known digest keeps its first place."""
        if rows:
            self._write(self._db, sorted(rows))

    def record_later(self, rows: list[tuple[bytes, int, int]]) -> None:
        """Queue rows for the writer thread; :meth:`lookup` sees them immediately."""
        self._raise_writer_error()
        if not rows:
            return
        with self._pending_lock:
            for digest, partition, offset in rows:
                self._pending.setdefault(digest, (partition, offset))
        if self._writer is None:
            self._writer = threading.Thread(
                target=self._write_loop, name=f"dedup-index:{self._path.name}", daemon=True
            )
            self._writer.start()
        self._queue.put(rows)

    def sync(self) -> None:
        """Wait until every queued row is committed; raise if the writer failed."""
        if self._writer is not None:
            self._queue.join()
        self._raise_writer_error()

    def _write_loop(self) -> None:
        db: sqlite3.Connection | None = None
        try:
            db = _open_index_db(self._path)
        except BaseException as exc:  # reported to the caller by the next call
            self._writer_error = exc
        try:
            while True:
                rows = self._queue.get()
                try:
                    if rows is None:
                        return
                    if db is not None and self._writer_error is None:
                        self._write(db, sorted(rows))
                        with self._pending_lock:
                            for digest, _, _ in rows:
                                self._pending.pop(digest, None)
                except BaseException as exc:  # reported to the caller by the next call
                    self._writer_error = exc
                finally:
                    self._queue.task_done()
        finally:
            if db is not None:
                db.close()

    def _raise_writer_error(self) -> None:
        if self._writer_error is not None:
            raise LogError(
                f"dedup index writer for {self._path} failed: {self._writer_error}"
            ) from self._writer_error

    @staticmethod
    def _write(db: sqlite3.Connection, rows: Sequence[tuple[bytes, int, int]]) -> None:
        try:
            db.execute("BEGIN")
            db.executemany(
                "INSERT OR IGNORE INTO ids(digest, partition, offset) VALUES (?, ?, ?)", rows
            )
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise LogError(f"dedup index write failed: {exc}") from exc

    def count(self) -> int:
        self.sync()
        (n,) = self._db.execute("SELECT COUNT(*) FROM ids").fetchone()
        return int(n)

    def clear(self) -> None:
        self.sync()
        self._db.execute("DELETE FROM ids")

    def close(self) -> None:
        try:
            self.sync()
        finally:
            if self._writer is not None:
                self._queue.put(None)
                self._writer.join()
                self._writer = None
            self._db.close()


class KafkaEventLog(EventLog):
    """The event-log port on a Kafka topic (see the module docstring for the guarantees)."""

    def __init__(self, config: KafkaLogConfig) -> None:
        self.config = config
        self._topic = KafkaTopic(config)
        self._index: IdIndex | None = None
        self._positions: SqlitePositionStore | None = None
        self._positions_db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    @classmethod
    def connect(cls, bootstrap: str, index_path: Path | str, **options: Any) -> Self:
        """Shorthand for ``KafkaEventLog(KafkaLogConfig(bootstrap, index_path=..., ...))``."""
        return cls(KafkaLogConfig(bootstrap, index_path=Path(index_path), **options))

    @property
    def partitions(self) -> int:  # type: ignore[override]  # read-only: fixed by the topic
        """The topic's partition count (connects and creates the topic on first access)."""
        return self._topic.partitions

    def _ids(self) -> IdIndex:
        if self._index is None:
            self._index = IdIndex(self.config.index_path, self.config.topic)
        return self._index

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
            self._topic.close()
        finally:
            if self._index is not None:
                self._index.close()
                self._index = None
            if self._positions_db is not None:
                self._positions_db.close()
                self._positions_db = None
                self._positions = None
