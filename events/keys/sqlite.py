"""SQLite key store for the embedded mode.

Destroyed keys are overwritten and deleted, then the database is told to zero freed pages
(``secure_delete``) and the write-ahead log is checkpointed and truncated, so the material
lingers neither in the database file nor in its ``-wal`` file.

Every process of a data directory opens its own handle and caches keys, and an erasure runs in
its own process (``servicetrace erase``) while the API keeps serving. So a destruction bumps a
*generation* counter in the file, and each handle drops its caches when it sees the counter
move: always before opening (:meth:`SqliteKeyStore.get`, cheap: SQLite's ``data_version``
tells whether anyone wrote at all, about 5 µs), and at most every
:data:`SEAL_RECHECK_SECONDS` on the ingest hot path (:meth:`SqliteKeyStore.key_for`), where a
stale key can only make a returning customer's new data unreadable, never reveal erased data.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from events.keys import DataKey, KeyStore

__all__ = ["SEAL_RECHECK_SECONDS", "SqliteKeyStore"]

#: How stale a handle's live keys may get on the sealing path (see the module doc).
SEAL_RECHECK_SECONDS = 0.25

_SCHEMA = """
CREATE TABLE IF NOT EXISTS data_keys (
    key_id      TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    material    BLOB NOT NULL,
    live        INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX IF NOT EXISTS data_keys_live ON data_keys(customer_id) WHERE live = 1;
CREATE TABLE IF NOT EXISTS key_generation (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT OR IGNORE INTO key_generation(id, generation) VALUES (1, 0);
"""


class SqliteKeyStore(KeyStore):
    def __init__(self, path: Path | str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._cache: dict[str, DataKey] = {}
        self._live: dict[str, DataKey] = {}
        self._data_version = -1
        self._generation = -1
        self._checked_at = 0.0
        self._refresh()

    def _refresh(self) -> None:
        """Drop the caches if a key was destroyed (by any handle) since the last look."""
        (version,) = self._db.execute("PRAGMA data_version").fetchone()
        if version == self._data_version:
            return
        self._data_version = version
        (generation,) = self._db.execute(
            "SELECT generation FROM key_generation WHERE id = 1"
        ).fetchone()
        if generation != self._generation:
            self._generation = generation
            self._cache = {}
            self._live = {}

    def _refresh_now_and_then(self) -> None:
        now = time.monotonic()
        if now - self._checked_at >= SEAL_RECHECK_SECONDS:
            self._checked_at = now
            self._refresh()

    def key_for(self, customer_id: str) -> DataKey:
        self._refresh_now_and_then()
        live = self._live.get(customer_id)
        if live is not None:
            return live
        with self._lock:
            # INSERT OR IGNORE + SELECT: when several processes (ingest workers) meet a new
            # customer at once, the unique live-key index lets exactly one key win for all.
            self._db.execute(
                "INSERT OR IGNORE INTO data_keys(key_id, customer_id, material) VALUES (?, ?, ?)",
                (secrets.token_hex(16), customer_id, secrets.token_bytes(32)),
            )
            key_id, material = self._db.execute(
                "SELECT key_id, material FROM data_keys WHERE customer_id = ? AND live = 1",
                (customer_id,),
            ).fetchone()
            key = self._live[customer_id] = DataKey(key_id, customer_id, material)
            return key

    def keys_for(self, customer_ids: Iterable[str]) -> dict[str, DataKey]:
        customer_ids = list(customer_ids)  # read twice below: a generator would run dry
        self._refresh_now_and_then()
        wanted = {cid for cid in customer_ids if cid not in self._live}
        if wanted:
            self._load_or_create(sorted(wanted))
        return {cid: self._live[cid] for cid in customer_ids}

    def _load_or_create(self, customer_ids: list[str]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT OR IGNORE INTO data_keys(key_id, customer_id, material) "
                    "VALUES (?, ?, ?)",
                    [(secrets.token_hex(16), cid, secrets.token_bytes(32)) for cid in customer_ids],
                )
                self._db.execute("COMMIT")
            except sqlite3.Error:
                self._db.execute("ROLLBACK")
                raise
            for start in range(0, len(customer_ids), 500):
                chunk = customer_ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    "SELECT customer_id, key_id, material FROM data_keys "
                    f"WHERE live = 1 AND customer_id IN ({marks})",
                    chunk,
                )
                for cid, key_id, material in rows:
                    self._live[cid] = DataKey(key_id, cid, material)

    def get(self, key_id: str) -> DataKey | None:
        self._refresh()
        cached = self._cache.get(key_id)
        if cached is not None:
            return cached
        row = self._db.execute(
            "SELECT customer_id, material FROM data_keys WHERE key_id = ?", (key_id,)
        ).fetchone()
        if row is None:
            return None
        key = DataKey(key_id, row[0], row[1])
        self._cache[key_id] = key
        return key

    def destroy(self, customer_id: str) -> int:
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if v.customer_id != customer_id}
            self._live.pop(customer_id, None)
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "UPDATE data_keys SET material = zeroblob(32) WHERE customer_id = ?",
                    (customer_id,),
                )
                destroyed = self._db.execute(
                    "DELETE FROM data_keys WHERE customer_id = ?", (customer_id,)
                ).rowcount
                if destroyed:
                    self._db.execute(
                        "UPDATE key_generation SET generation = generation + 1 WHERE id = 1"
                    )
                self._db.execute("COMMIT")
            except sqlite3.Error:
                self._db.execute("ROLLBACK")
                raise
            if destroyed:
                # The pages that held the material are in the -wal file until a checkpoint
                # copies them back (zeroed) and truncation drops the log. Best effort: a
                # reader in another process can hold the checkpoint back until its next one.
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return destroyed

    def close(self) -> None:
        self._db.close()
