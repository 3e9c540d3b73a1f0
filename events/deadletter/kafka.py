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
"""

from __future__ import annotations

import json
from collections.abc import Sequence
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


class KafkaDeadLetterStore(IndexedTopic, DeadLetterStore):
    """The dead-letter port on a Kafka topic; connects lazily on first use."""

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
