"""Dead letters on a Kafka topic (``servicetrace.deadletter.v1``), for other services to read.

Each letter is one record keyed by its ``letter_id`` with ``DeadLetter.encode()`` (UTF-8 JSON)
as the value, so any Kafka tool can read it without our code. Idempotence by ``letter_id`` uses
the same produce-then-index rule as :mod:`events.log.kafka`: letters are sent with acks=all,
and only acknowledged ones are written to a small SQLite index of letter ids. A crash between
the two can leave a second copy in the topic, never a lost letter; :meth:`list` therefore
dedupes by ``letter_id`` on read, keeping the first copy.

The topic has one partition by default: dead letters are few, and a single partition makes
"the order they were first kept" the offset order. With more partitions, letters are ordered
by (broker timestamp, partition, offset), which is first-kept order up to clock resolution.

A topic cannot be rewritten, so :meth:`KafkaDeadLetterStore.scrub` keeps the ids of scrubbed
letters in a small SQLite file beside the index and shows those letters scrubbed. The records
stay in the topic until its retention drops them, which is why the platform only ever puts
sealed letters here (:mod:`events.deadletter.sealed`): once the keys are destroyed, what stays
is ciphertext nobody can open.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Self

from events.deadletter import DeadLetter, DeadLetterStore
from events.errors import LogError
from events.log import partition_for
from events.log._id_index import id_digest
from events.log._indexed_topic import IndexedTopic
from events.log.kafka import KafkaLogConfig

__all__ = ["DEADLETTER_TOPIC", "KafkaDeadLetterStore"]

DEADLETTER_TOPIC = "servicetrace.deadletter.v1"


class _ScrubbedIds:
    """The ids of scrubbed letters, in SQLite (shared by the processes of a deployment)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS scrubbed (letter_id TEXT PRIMARY KEY)")
        self._lock = threading.Lock()

    def all(self) -> set[str]:
        with self._lock:
            return {lid for (lid,) in self._db.execute("SELECT letter_id FROM scrubbed")}

    def add(self, letter_ids: Sequence[str]) -> int:
        with self._lock:
            before = self._db.total_changes
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR IGNORE INTO scrubbed(letter_id) VALUES (?)", [(i,) for i in letter_ids]
            )
            self._db.execute("COMMIT")
            return self._db.total_changes - before

    def close(self) -> None:
        self._db.close()


class KafkaDeadLetterStore(IndexedTopic, DeadLetterStore):
    """The dead-letter port on a Kafka topic; connects lazily on first use."""

    def __init__(self, config: KafkaLogConfig) -> None:
        super().__init__(config)
        self._scrubbed_path = config.index_path.with_name(config.index_path.name + ".scrubbed")
        self._scrubbed_ids: _ScrubbedIds | None = None

    def _scrubbed(self) -> _ScrubbedIds:
        if self._scrubbed_ids is None:
            self._scrubbed_ids = _ScrubbedIds(self._scrubbed_path)
        return self._scrubbed_ids

    @classmethod
    def connect(
        cls,
        bootstrap: str,
        index_path: Path | str,
        *,
        topic: str = DEADLETTER_TOPIC,
        partitions: int = 1,
        **options: Any,
    ) -> Self:
        """A store on ``topic`` (created with ``partitions`` if missing) at ``bootstrap``."""
        config = KafkaLogConfig(
            bootstrap, index_path=Path(index_path), topic=topic, partitions=partitions, **options
        )
        return cls(config)

    def put(self, letters: Sequence[DeadLetter]) -> int:
        if not letters:
            return 0
        with self._lock:
            partitions = self._topic.partitions
            index = self._ids()
            unique: dict[str, DeadLetter] = {}
            for letter in letters:
                unique.setdefault(letter.letter_id, letter)
            digests = {lid: id_digest(lid) for lid in unique}
            known = index.lookup(list(digests.values()))
            new = [(lid, letter) for lid, letter in unique.items() if digests[lid] not in known]
            rows: list[tuple[int, bytes, bytes, list[tuple[str, bytes]]]] = [
                (partition_for(lid, partitions), lid.encode(), letter.encode(), [])
                for lid, letter in new
            ]
            offsets, error = self._topic.produce(rows)
            acked = [
                (digests[lid], row[0], offset)
                for (lid, _), row, offset in zip(new, rows, offsets, strict=True)
                if offset is not None
            ]
            index.record(acked)
            if error is not None:
                raise LogError(
                    f"Kafka at {self.config.bootstrap} kept {len(acked)} of {len(rows)} dead "
                    f"letters on {self.config.topic!r}: {type(error).__name__}: {error}"
                ) from error
            return len(acked)

    def list(self, limit: int | None = None) -> list[DeadLetter]:
        if limit is not None and limit <= 0:
            return []
        scrubbed = self._scrubbed().all()
        return [
            letter.scrubbed() if letter.letter_id in scrubbed else letter
            for letter in self._read(limit)
        ]

    def scrub(self, letter_ids: Iterable[str]) -> int:
        wanted = set(letter_ids)
        kept = {letter.letter_id for letter in self._read(None)} & wanted
        return self._scrubbed().add(sorted(kept))

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._scrubbed_ids is not None:
                self._scrubbed_ids.close()
                self._scrubbed_ids = None

    def _read(self, limit: int | None) -> Sequence[DeadLetter]:
        """The letters in the topic, first copies only, as they were put."""
        with self._lock:
            records: list[tuple[int, int, int, bytes]] = []
            for partition in range(self._topic.partitions):
                position = 0
                while batch := self._topic.read(partition, position, 5000):
                    records.extend((r.timestamp, partition, r.offset, r.value) for r in batch)
                    position = batch[-1].offset + 1
        if self._topic.partitions > 1:
            records.sort()
        seen: set[str] = set()
        letters: list[DeadLetter] = []
        for _, partition, offset, value in records:
            try:
                data = json.loads(value)
                letter = DeadLetter.from_json(data)
            except (ValueError, KeyError, TypeError) as exc:
                raise LogError(
                    f"undecodable dead letter {self.config.topic}/{partition}@{offset} at "
                    f"{self.config.bootstrap}: {exc}"
                ) from exc
            lid = str(data.get("letter_id") or letter.letter_id)
            if lid in seen:
                continue
            seen.add(lid)
            letters.append(letter)
            if limit is not None and len(letters) >= limit:
                break
        return letters
