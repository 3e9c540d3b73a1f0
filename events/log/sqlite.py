"""The embedded event log: one SQLite file, the default for a single-process deployment.

Positions are numbered per partition from 0, exactly like Kafka offsets, so consumers and the
projector runtime treat both backends the same. Appends run in one ``BEGIN IMMEDIATE``
transaction per batch: another process appending to the same file waits for its turn instead
of interleaving positions. ``synchronous=FULL`` makes an acknowledged batch survive power loss.

Rows are ~500 bytes, so the table keeps SQLite's rowid layout (a WITHOUT ROWID table stores
whole rows in its key B-tree, which is slow for rows this size), and uniqueness of event ids
is enforced on a 16-byte digest rather than the 36-character text: together about 1.6x faster
appends than the naive layout, measured on 100k events.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from events.errors import LogError, LogUnavailable
from events.log import Appended, Entry, EventLog, LogRecord, PositionStore, partition_for

__all__ = ["SqliteEventLog", "SqlitePositionStore"]

_LOG_SCHEMA = """
CREATE TABLE IF NOT EXISTS log_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS log (
    seq       INTEGER PRIMARY KEY,
    partition INTEGER NOT NULL,
    position  INTEGER NOT NULL,
    key       TEXT    NOT NULL,
    event_id  TEXT    NOT NULL,
    id_digest BLOB    NOT NULL UNIQUE,
    value     BLOB    NOT NULL,
    UNIQUE (partition, position)
);
"""

_POSITIONS_SCHEMA = """
CREATE TABLE IF NOT EXISTS positions (
    consumer  TEXT    NOT NULL,
    partition INTEGER NOT NULL,
    position  INTEGER NOT NULL,
    PRIMARY KEY (consumer, partition)
);
"""

_LOOKUP_CHUNK = 500


def _digest(event_id: str) -> bytes:
    return hashlib.blake2b(event_id.encode(), digest_size=16).digest()


def connect(path: Path | str) -> sqlite3.Connection:
    """A connection tuned for an append-heavy log shared by threads of one process."""
    try:
        db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        # Checkpoint the WAL every ~40 MB instead of every 4 MB: copying pages back into the
        # database is most of an append's cost once the log outgrows the cache (+17% at 300k).
        db.execute("PRAGMA wal_autocheckpoint=10000")
        # A 64 MB page cache instead of 2 MB: the event-id digest index takes random inserts,
        # and with the default cache most of them re-read a page through a system call
        # (half of an append's system time at 200k events).
        db.execute("PRAGMA cache_size=-65536")
    except sqlite3.Error as exc:
        raise LogUnavailable(f"cannot open the embedded log at {path}: {exc}") from exc
    return db


def _reader(path: Path | str) -> sqlite3.Connection:
    """A connection for :meth:`SqliteEventLog.read`, with SQLite's small default page cache.

    Why apart from the appending connection: the 64 MB cache that appends need is useless to a
    consumer reading a partition from end to end (its rows are interleaved with the other
    partitions', so every page is needed once per partition, and the operating system caches
    them anyway), yet it fills up: measured on 1M events, reading everything with the default
    cache takes 65 MB less memory and 20% less time. WAL mode lets it read while the other
    connection appends, and it sees every committed append.
    """
    db = connect(path)
    db.execute("PRAGMA cache_size=-2000")
    return db


class SqlitePositionStore(PositionStore):
    def __init__(self, db: sqlite3.Connection, lock: threading.Lock | None = None) -> None:
        self._db = db
        self._lock = lock or threading.Lock()
        self._db.executescript(_POSITIONS_SCHEMA)

    @classmethod
    def at(cls, path: Path | str) -> SqlitePositionStore:
        return cls(connect(path))

    def get(self, consumer: str) -> dict[int, int]:
        rows = self._db.execute(
            "SELECT partition, position FROM positions WHERE consumer = ?", (consumer,)
        )
        return dict(rows.fetchall())

    def commit(self, consumer: str, positions: Mapping[int, int]) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT INTO positions(consumer, partition, position) VALUES (?, ?, ?) "
                "ON CONFLICT(consumer, partition) DO UPDATE "
                "SET position = max(position, excluded.position)",
                [(consumer, p, pos) for p, pos in positions.items()],
            )

    def reset(self, consumer: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM positions WHERE consumer = ?", (consumer,))


class SqliteEventLog(EventLog):
    def __init__(self, path: Path | str, partitions: int = 4) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = connect(path)
        self._lock = threading.Lock()
        self._db.executescript(_LOG_SCHEMA)
        self._reader = _reader(path)
        self.partitions = self._fixed_partitions(partitions)
        self._positions = SqlitePositionStore(self._db, self._lock)
        self._partitions: dict[str, int] = {}

    def _fixed_partitions(self, wanted: int) -> int:
        """A log's partition count is fixed at creation: re-keying would break customer order."""
        self._db.execute(
            "INSERT OR IGNORE INTO log_meta(name, value) VALUES ('partitions', ?)", (str(wanted),)
        )
        (stored,) = self._db.execute(
            "SELECT value FROM log_meta WHERE name='partitions'"
        ).fetchone()
        return int(stored)

    def append(self, entries: Sequence[Entry]) -> list[Appended]:
        if not entries:
            return []
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                results = self._append_locked(entries)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise LogError(f"embedded log append failed: {exc}") from exc
        return results

    def _append_locked(self, entries: Sequence[Entry]) -> list[Appended]:
        digests = {event_id: _digest(event_id) for event_id, _, _ in entries}
        known = self._known(list(digests.values()))
        next_position: dict[int, int] = {}
        rows: list[tuple[int, int, str, str, bytes, bytes]] = []
        results: list[Appended] = []
        for event_id, key, value in entries:
            digest = digests[event_id]
            hit = known.get(digest)
            if hit is not None:
                results.append(Appended(event_id, hit[0], hit[1], True))
                continue
            partition = self._partition(key)
            position = next_position.get(partition)
            if position is None:
                position = self._end(partition)
            next_position[partition] = position + 1
            known[digest] = (partition, position)
            rows.append((partition, position, key, event_id, digest, value))
            results.append(Appended(event_id, partition, position, False))
        self._db.executemany(
            "INSERT INTO log(partition, position, key, event_id, id_digest, value) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        return results

    def _partition(self, key: str) -> int:
        """murmur2 is pure Python (~5 us): remember each customer's partition (bounded)."""
        partition = self._partitions.get(key)
        if partition is None:
            if len(self._partitions) >= 200_000:
                self._partitions.clear()
            partition = self._partitions[key] = partition_for(key, self.partitions)
        return partition

    def _known(self, digests: list[bytes]) -> dict[bytes, tuple[int, int]]:
        found: dict[bytes, tuple[int, int]] = {}
        for start in range(0, len(digests), _LOOKUP_CHUNK):
            chunk = digests[start : start + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            for digest, partition, position in self._db.execute(
                f"SELECT id_digest, partition, position FROM log WHERE id_digest IN ({marks})",
                chunk,
            ):
                found[digest] = (partition, position)
        return found

    def _end(self, partition: int) -> int:
        (end,) = self._db.execute(
            "SELECT COALESCE(MAX(position) + 1, 0) FROM log WHERE partition = ?", (partition,)
        ).fetchone()
        return int(end)

    def read(self, partition: int, position: int, limit: int = 1000) -> list[LogRecord]:
        rows = self._reader.execute(
            "SELECT partition, position, key, event_id, value FROM log "
            "WHERE partition = ? AND position >= ? ORDER BY position LIMIT ?",
            (partition, position, limit),
        ).fetchall()
        return list(map(LogRecord._make, rows))

    def count(self) -> int:
        (n,) = self._db.execute("SELECT COUNT(*) FROM log").fetchone()
        return int(n)

    @property
    def positions(self) -> PositionStore:
        return self._positions

    def close(self) -> None:
        self._reader.close()
        self._db.close()
