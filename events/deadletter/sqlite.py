"""Embedded dead-letter store: a table in its own SQLite file (or beside the log).

A scrub rewrites the letter's row in place (same ``seq``: it keeps its place) with
``secure_delete`` on, then checkpoints and truncates the write-ahead log, so the old contents
linger neither in freed pages nor in the ``-wal`` file.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from events.deadletter import DeadLetter, DeadLetterStore

__all__ = ["SqliteDeadLetterStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    letter_id TEXT NOT NULL UNIQUE,
    body      TEXT NOT NULL
);
"""


class SqliteDeadLetterStore(DeadLetterStore):
    def __init__(self, path: Path | str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=30
        )
        # One connection shared by the API's request threads: a transaction at a time (two
        # threads' BEGINs on one connection fail, and the API answered 500).
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.executescript(_SCHEMA)

    def put(self, letters: Sequence[DeadLetter]) -> int:
        rows = [(letter.letter_id, letter.encode().decode()) for letter in letters]
        with self._lock:
            before = self._db.total_changes
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT OR IGNORE INTO dead_letters(letter_id, body) VALUES (?, ?)", rows
                )
                self._db.execute("COMMIT")
            except sqlite3.Error:
                self._db.execute("ROLLBACK")
                raise
            return self._db.total_changes - before

    def list(self, limit: int | None = None) -> list[DeadLetter]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM dead_letters ORDER BY seq LIMIT ?",
                (-1 if limit is None else limit,),
            ).fetchall()
        return [DeadLetter.from_json(json.loads(body)) for (body,) in rows]

    def scrub(self, letter_ids: Iterable[str]) -> int:
        with self._lock:
            return self._scrub(sorted(set(letter_ids)))

    def _scrub(self, wanted: Sequence[str]) -> int:
        scrubbed = 0
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT seq, body FROM dead_letters WHERE letter_id IN ({marks})", chunk
                ).fetchall()
                for seq, body in rows:
                    letter = DeadLetter.from_json(json.loads(body))
                    if letter.erased:
                        continue
                    self._db.execute(
                        "UPDATE dead_letters SET body = ? WHERE seq = ?",
                        (letter.scrubbed().encode().decode(), seq),
                    )
                    scrubbed += 1
            self._db.execute("COMMIT")
        except sqlite3.Error:
            self._db.execute("ROLLBACK")
            raise
        if scrubbed:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return scrubbed

    def count(self) -> int:
        with self._lock:
            (n,) = self._db.execute("SELECT COUNT(*) FROM dead_letters").fetchone()
        return int(n)

    def close(self) -> None:
        self._db.close()
