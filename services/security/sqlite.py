"""Embedded token store: a table in ``tokens.sqlite`` in the data directory (digests only)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from services.security.roles import Role
from services.security.tokens import TokenRecord, TokenStore

__all__ = ["SqliteTokenStore", "record_from_row"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_tokens (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    token_id   TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    roles      TEXT NOT NULL,
    digest     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
"""
_COLUMNS = "token_id, name, roles, digest, created_at, revoked_at"


def record_from_row(row: Sequence[Any]) -> TokenRecord:
    """A stored row (``_COLUMNS`` order; roles comma-separated) as a record."""
    token_id, name, roles, digest, created_at, revoked_at = row
    parsed = tuple(Role(role) for role in str(roles).split(",") if role)
    return TokenRecord(str(token_id), str(name), parsed, str(digest), str(created_at), revoked_at)


class SqliteTokenStore(TokenStore):
    def __init__(self, path: Path | str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def add(self, record: TokenRecord) -> None:
        with self._lock:
            if self._db.execute(
                "SELECT 1 FROM api_tokens WHERE token_id = ?", (record.token_id,)
            ).fetchone():
                raise ValueError(f"token id {record.token_id} already exists")
            self._db.execute(
                f"INSERT INTO api_tokens({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    record.token_id,
                    record.name,
                    ",".join(role.value for role in record.roles),
                    record.digest,
                    record.created_at,
                    record.revoked_at,
                ),
            )

    def get(self, token_id: str) -> TokenRecord | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM api_tokens WHERE token_id = ?", (token_id,)
            ).fetchone()
        return None if row is None else record_from_row(row)

    def list(self) -> Sequence[TokenRecord]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM api_tokens ORDER BY seq").fetchall()
        return [record_from_row(row) for row in rows]

    def mark_revoked(self, token_id: str, when: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
                (when, token_id),
            )
        return cursor.rowcount == 1

    def close(self) -> None:
        self._db.close()
