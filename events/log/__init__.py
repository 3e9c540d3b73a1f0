"""The event-log port: an append-only, partitioned, idempotent log of encoded events.

The log stores opaque bytes (Confluent-framed Avro, see :mod:`schemas.serde`) so that the same
port carries touchpoints, dead letters and anything later. Its promises, checked for every
backend by ``tests/contract/test_event_log.py``:

* ``append`` is idempotent by event id: an id already in the log is reported as a duplicate
  with its original position and is never written twice (also within one batch);
* records are keyed by customer id and a key always lands in the same partition, so one
  customer's events are read back in the order they were appended;
* positions are per partition, contiguous and start at 0 (Kafka offsets; the embedded log
  numbers them the same way), so a consumer stores "next position to read" per partition;
* ``read(partition, position)`` returns records from that position on, in order;
* consumers track their positions in a :class:`PositionStore`, which the log offers but which
  any durable store can implement (a projector keeps them beside its views).

Backends: :mod:`events.log.memory` (test double), :mod:`events.log.sqlite` (the embedded
default, one file) and :mod:`events.log.kafka` (kafka-python, production).
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

from kafka.partitioner.default import murmur2

from events.resources import Closing

__all__ = [
    "Appended",
    "Entry",
    "EventLog",
    "LogRecord",
    "PositionStore",
    "partition_for",
]


class Entry(NamedTuple):
    """What to append: the event's id, its key (the customer id) and its encoded bytes.

    A named tuple, like :class:`Appended`: ingest makes one of each per event, and a tuple is
    built in a third of the time of a frozen dataclass.
    """

    event_id: str
    key: str
    value: bytes


class Appended(NamedTuple):
    """Where an entry stands in the log; ``duplicate`` when its id was already there."""

    event_id: str
    partition: int
    position: int
    duplicate: bool


class LogRecord(NamedTuple):
    """One record read from the log, where it was read. A named tuple: consumers read records
    by the hundred thousand, and building a tuple costs a third of a frozen dataclass."""

    partition: int
    position: int
    key: str
    event_id: str
    value: bytes


def partition_for(key: str, partitions: int) -> int:
    """Kafka's default partitioner (murmur2), so every backend puts a customer in one place."""
    return (int(murmur2(key.encode())) & 0x7FFFFFFF) % partitions


class PositionStore(abc.ABC):
    """Port: a consumer's next position to read, per partition."""

    @abc.abstractmethod
    def get(self, consumer: str) -> dict[int, int]:
        """Next position per partition (a partition never committed is absent: start at 0)."""

    @abc.abstractmethod
    def commit(self, consumer: str, positions: Mapping[int, int]) -> None:
        """Record next positions; committing a position lower than the stored one is ignored."""

    @abc.abstractmethod
    def reset(self, consumer: str) -> None:
        """Forget the consumer's positions (a rebuild starts again from 0)."""


class EventLog(Closing, abc.ABC):
    """Port: the immutable log every touchpoint is appended to."""

    #: Number of partitions; fixed for the life of a log.
    partitions: int

    @abc.abstractmethod
    def append(self, entries: Sequence[Entry]) -> list[Appended]:
        """Append entries (idempotently by event id); one result per entry, in order."""

    @abc.abstractmethod
    def read(self, partition: int, position: int, limit: int = 1000) -> list[LogRecord]:
        """Up to ``limit`` records of ``partition`` from ``position`` on, in position order."""

    @property
    @abc.abstractmethod
    def positions(self) -> PositionStore:
        """Where consumers of this log track their positions."""

    def flush(self) -> None:
        """Make every appended entry durable before returning."""

    def read_all(self, partition: int, position: int = 0, batch: int = 5000) -> Iterator[LogRecord]:
        """Every record of ``partition`` from ``position`` to the current end."""
        while True:
            records = self.read(partition, position, batch)
            if not records:
                return
            yield from records
            position = records[-1].position + 1
