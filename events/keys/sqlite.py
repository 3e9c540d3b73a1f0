"""SQLite key store for the embedded mode.

Destroyed keys are overwritten and deleted, then the database is told to zero freed pages
(``secure_delete``) so the material does not linger in the file.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from pathlib import Path

from events.keys import DataKey, KeyStore

__all__ = ["SqliteKeyStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS data_keys (
    key_id      TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    material    BLOB NOT NULL,
    live        INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX IF NOT EXISTS data_keys_live ON data_keys(customer_id) WHERE live = 1;
"""


class SqliteKeyStore(KeyStore):
    def __init__(self, path: Path | str) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._cache: dict[str, DataKey] = {}
        self._live: dict[str, DataKey] = {}

    def key_for(self, customer_id: str) -> DataKey:
        live = self._live.get(customer_id)
        if live is not None:
            return live
        with self._lock:
            row = self._db.execute(
                "SELECT key_id, material FROM data_keys WHERE customer_id = ? AND live = 1",
                (customer_id,),
            ).fetchone()
            if row is not None:
                key = DataKey(row[0], customer_id, row[1])
            else:
                key = DataKey(secrets.token_hex(16), customer_id, secrets.token_bytes(32))
                self._db.execute(
                    "INSERT INTO data_keys(key_id, customer_id, material) VALUES (?, ?, ?)",
                    (key.key_id, customer_id, key.material),
                )
            self._live[customer_id] = key
            return key

    def get(self, key_id: str) -> DataKey | None:
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
            self._db.execute(
                "UPDATE data_keys SET material = zeroblob(32) WHERE customer_id = ?",
                (customer_id,),
            )
            cursor = self._db.execute("DELETE FROM data_keys WHERE customer_id = ?", (customer_id,))
            return cursor.rowcount

    def close(self) -> None:
        self._db.close()
