"""Cheap readings of where each stage of the pipeline stands, for the ``/metrics`` scrape.

A scrape arrives every few seconds and must never become the load it measures, so nothing
here scans a log or a table: a log's end is found with a handful of one-record reads (or the
broker's watermarks), dead letters are counted by the store's own count (or the topic's end),
and the relay's backlog is the distance between the outbox's last notification id and the
relay's recorded next one.

The log port has no "end position" call, and adding one to every backend for a gauge would
widen the port for one reader; :func:`log_ends` is dispatched on the backend instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import singledispatch
from typing import TYPE_CHECKING, Any

from events.deadletter import DeadLetterStore
from events.deadletter.kafka import KafkaDeadLetterStore
from events.deadletter.sealed import SealedDeadLetters
from events.errors import LogUnavailable
from events.log import EventLog
from events.log.kafka import KafkaEventLog

if TYPE_CHECKING:
    from services.platform import Platform

__all__ = ["RelayBacklog", "dead_letter_count", "kafka_ends", "log_ends", "relay_backlog"]

#: How long a scrape may wait for the broker's watermarks before it gives up.
_KAFKA_TIMEOUT_MS = 3000


@singledispatch
def log_ends(log: EventLog) -> dict[int, int]:
    """The next position to be written in every partition (= records in it: positions start at
    0 and are contiguous, as the log port promises)."""
    return {partition: _gallop_end(log, partition) for partition in range(log.partitions)}


def _gallop_end(log: EventLog, partition: int) -> int:
    """The end of ``partition`` in O(log n) one-record reads (positions are contiguous, so
    "a record at ``p``" is monotone: true below the end, false from it on)."""

    def has(position: int) -> bool:
        return bool(log.read(partition, position, 1))

    if not has(0):
        return 0
    low, high = 0, 1  # invariant: has(low) and the end is above low
    while has(high):
        low, high = high, high * 2
    while high - low > 1:  # has(low), not has(high)
        middle = (low + high) // 2
        if has(middle):
            low = middle
        else:
            high = middle
    return high


@log_ends.register
def _kafka_log_ends(log: KafkaEventLog) -> dict[int, int]:
    return kafka_ends(log.config.bootstrap, log.config.topic)


def kafka_ends(bootstrap: str, topic: str) -> dict[int, int]:
    """Every partition's high watermark (its end offset), from a fetch at the end.

    The watermark is read from fetch responses rather than taken from ``ListOffsets``
    (``end_offsets``): the broker the tests run on answers ``ListOffsets`` with a batch's
    base offset, while every broker reports the high watermark with each fetch. Seeking to
    ``end_offsets`` first keeps that fetch to at most the last batch of each partition.
    """
    from kafka import KafkaConsumer, TopicPartition
    from kafka.errors import KafkaError

    consumer: Any = None
    try:
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            client_id="servicetrace-metrics",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            fetch_max_wait_ms=10,
            request_timeout_ms=_KAFKA_TIMEOUT_MS + 1000,
            bootstrap_timeout_ms=_KAFKA_TIMEOUT_MS,
        )
        partitions = sorted(consumer.partitions_for_topic(topic) or ())
        parts = [TopicPartition(topic, partition) for partition in partitions]
        if not parts:
            return {}
        consumer.assign(parts)
        for part, offset in consumer.end_offsets(parts).items():
            consumer.seek(part, offset)
        return _watermarks(consumer, parts)
    except KafkaError as exc:
        raise LogUnavailable(
            f"Kafka at {bootstrap} did not report the end of {topic!r}: {exc!r}"
        ) from exc
    finally:
        if consumer is not None:
            consumer.close()


def _watermarks(consumer: Any, parts: Iterable[Any]) -> dict[int, int]:
    parts = list(parts)
    for _ in range(_KAFKA_TIMEOUT_MS // 100):
        if all(consumer.highwater(part) is not None for part in parts):
            break
        consumer.poll(timeout_ms=100, max_records=1000)
    missing = [part.partition for part in parts if consumer.highwater(part) is None]
    if missing:
        raise LogUnavailable(f"no high watermark for partitions {missing} in time")
    return {part.partition: int(consumer.highwater(part)) for part in parts}


@singledispatch
def dead_letter_count(store: DeadLetterStore) -> int:
    """Rejected records kept (the SQLite and memory stores count them themselves)."""
    return store.count()


@dead_letter_count.register
def _sealed_dead_letter_count(store: SealedDeadLetters) -> int:
    # Sealing changes what a letter holds, not how many there are: count the store beneath.
    return dead_letter_count(store.inner)


@dead_letter_count.register
def _kafka_dead_letter_count(store: KafkaDeadLetterStore) -> int:
    # The port's default count reads every letter back; the topic's end is the same figure
    # (a crash between produce and index can leave a second copy: counted, never lost).
    return sum(kafka_ends(store.config.bootstrap, store.config.topic).values())


@dataclass(frozen=True, slots=True)
class RelayBacklog:
    """The outbox's last notification id and how many after the relay's position remain
    (``None``: this process cannot see the relay's position, see :func:`relay_backlog`)."""

    outbox: int
    unpublished: int | None


def relay_backlog(platform: Platform) -> RelayBacklog:
    """How far the relay is behind the decisions' outbox.

    The relay records its next notification beside the alert log's positions. In the Kafka
    shape those positions live in the relay's own data directory, which another process (the
    API) does not share: there an absent position means "not visible here", not "nothing
    published", and the backlog is left unknown rather than reported as everything.
    """
    outbox = platform.decisions.recorder.max_notification_id() or 0
    relay = platform.relay
    from services.decisions.messages import ALERTS_TOPIC

    source = relay.targets[ALERTS_TOPIC].positions.get(f"{relay.name}:source")
    following = source.get(0)
    if following is None and platform.settings.log == "kafka":
        return RelayBacklog(outbox, None)
    published_up_to = (following or 1) - 1
    return RelayBacklog(outbox, max(0, outbox - published_up_to))
