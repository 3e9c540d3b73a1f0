"""In-memory event log: the test double, held to the same contract suite as the real logs."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

from events.log import Appended, Entry, EventLog, LogRecord, PositionStore, partition_for

__all__ = ["MemoryEventLog", "MemoryPositionStore"]


class MemoryPositionStore(PositionStore):
    def __init__(self) -> None:
        self._positions: dict[str, dict[int, int]] = {}

    def get(self, consumer: str) -> dict[int, int]:
        return dict(self._positions.get(consumer, {}))

    def commit(self, consumer: str, positions: Mapping[int, int]) -> None:
        current = self._positions.setdefault(consumer, {})
        for partition, position in positions.items():
            current[partition] = max(position, current.get(partition, 0))

    def reset(self, consumer: str) -> None:
        self._positions.pop(consumer, None)


class MemoryEventLog(EventLog):
    def __init__(self, partitions: int = 4) -> None:
        self.partitions = partitions
        self._records: list[list[LogRecord]] = [[] for _ in range(partitions)]
        self._index: dict[str, LogRecord] = {}
        self._positions = MemoryPositionStore()
        self._lock = threading.Lock()

    def append(self, entries: Sequence[Entry]) -> list[Appended]:
        results = []
        with self._lock:
            for entry in entries:
                known = self._index.get(entry.event_id)
                if known is not None:
                    results.append(
                        Appended(entry.event_id, known.partition, known.position, duplicate=True)
                    )
                    continue
                partition = partition_for(entry.key, self.partitions)
                stream = self._records[partition]
                record = LogRecord(partition, len(stream), entry.key, entry.event_id, entry.value)
                stream.append(record)
                self._index[entry.event_id] = record
                results.append(Appended(entry.event_id, partition, record.position, False))
        return results

    def read(self, partition: int, position: int, limit: int = 1000) -> list[LogRecord]:
        return self._records[partition][max(position, 0) : max(position, 0) + limit]

    @property
    def positions(self) -> PositionStore:
        return self._positions
