"""The outbox relay: publishes the decisions' notification log to the alerts and flags topics,
each message exactly once, even when the relay is killed at any instant.

The decisions application records every change in its notification log (its outbox), in the
same transaction as the change. The relay reads it from its tracked position, turns each
notification into at most one message (:mod:`services.decisions.messages`) and appends the
messages to the target logs (Kafka topics in production, SQLite logs in the embedded mode),
whose appends are idempotent by message id within a process. Then it records, in this order,
(1) the next notification to read and (2) the target logs' next positions.

Exactly once across crashes: Kafka has no transaction we may rely on here (the broker in
the tests does not honour them), so the relay **reconciles** when it starts: it reads every
target partition from the recorded position (2) to its end and remembers the message ids found
there, then resumes at (1) and skips those ids. Whatever a crash interrupted is therefore either
found in the topic (not sent again) or not (sent now): nothing lost, nothing doubled. The order
of (1) before (2) matters: a crash between them leaves (2) *behind*, which only makes the next
reconciliation read a little more.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from events.log import Entry, EventLog
from services.decisions.application import DecisionsApp
from services.decisions.messages import (
    ALERTS_TOPIC,
    FLAGS_TOPIC,
    MessageSerdes,
    to_message,
)

__all__ = ["OutboxRelay", "RelayStats"]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class RelayStats:
    """What one pass did."""

    notifications: int = 0
    published: dict[str, int] = field(default_factory=lambda: {ALERTS_TOPIC: 0, FLAGS_TOPIC: 0})
    #: Messages found already in a topic during reconciliation and therefore not sent again.
    recovered: int = 0
    next_notification: int = 1


class OutboxRelay:
    """Publishes decisions to the alerts and flags logs; see the module doc."""

    def __init__(
        self,
        app: DecisionsApp,
        targets: Mapping[str, EventLog],
        *,
        name: str = "relay",
        page: int = 500,
        serdes: MessageSerdes | None = None,
    ) -> None:
        missing = {ALERTS_TOPIC, FLAGS_TOPIC} - targets.keys()
        if missing:
            raise ValueError(f"the relay needs a log for {sorted(missing)}")
        self.app = app
        self.targets = dict(targets)
        self.name = name
        self.page = page
        self.serdes = serdes or MessageSerdes()
        self._next: int | None = None
        self._found: set[str] = set()
        self._recovered = 0

    @property
    def _source(self) -> str:
        return f"{self.name}:source"

    def _reconcile(self) -> None:
        """Read back what reached the topics after the recorded positions (see the doc)."""
        source = self.targets[ALERTS_TOPIC].positions.get(self._source)
        self._next = source.get(0, 1)
        for log in self.targets.values():
            stored = log.positions.get(self.name)
            for partition in range(log.partitions):
                self._found.update(_ids_after(log, partition, stored.get(partition, 0)))
        if self._found:
            logger.info(
                "relay reconciled: %d message(s) already published after the recorded positions",
                len(self._found),
            )

    def run_once(self, max_pages: int | None = None) -> RelayStats:
        """Publish every notification recorded so far (or ``max_pages`` pages of them)."""
        if self._next is None:
            self._reconcile()
        assert self._next is not None
        stats = RelayStats(next_notification=self._next)
        pages = 0
        while max_pages is None or pages < max_pages:
            notifications = self.app.recorder.select_notifications(self._next, self.page)
            if not notifications:
                break
            self._publish(notifications, stats)
            pages += 1
            if len(notifications) < self.page:
                break
        stats.recovered, self._recovered = self._recovered, 0
        stats.next_notification = self._next
        return stats

    def _publish(self, notifications: Any, stats: RelayStats) -> None:
        batches: dict[str, list[Entry]] = {topic: [] for topic in self.targets}
        for notification in notifications:
            event = self.app.mapper.to_domain_event(notification)
            message = to_message(event, self._load)
            if message is None:
                continue
            entry = self.serdes.entry(message)
            if entry.event_id in self._found:
                self._found.discard(entry.event_id)
                self._recovered += 1
                continue
            batches[message[0]].append(entry)
        moved: dict[str, dict[int, int]] = {}
        for topic, entries in batches.items():
            if not entries:
                continue
            log = self.targets[topic]
            appended = log.append(entries)
            log.flush()
            ends: dict[int, int] = {}
            for result in appended:
                ends[result.partition] = max(ends.get(result.partition, 0), result.position + 1)
            moved[topic] = ends
            stats.published[topic] += sum(not result.duplicate for result in appended)
        last = notifications[-1].id
        self.targets[ALERTS_TOPIC].positions.commit(self._source, {0: last + 1})
        for topic, ends in moved.items():
            self.targets[topic].positions.commit(self.name, ends)
        self._next = last + 1
        stats.notifications += len(notifications)

    def _load(self, originator_id: UUID, version: int) -> Any:
        return self.app.repository.get(originator_id, version=version)

    def follow(
        self,
        stop: threading.Event,
        poll_interval: float = 0.2,
        heartbeat: Callable[[], object] | None = None,
    ) -> RelayStats:
        """Publish until ``stop`` is set; ``heartbeat`` is called after every pass, idle or not
        (a container health check tells a quiet relay from a stuck one)."""
        total = RelayStats()
        while not stop.is_set():
            stats = self.run_once()
            if heartbeat is not None:
                heartbeat()
            total.notifications += stats.notifications
            for topic, count in stats.published.items():
                total.published[topic] += count
            total.recovered += stats.recovered
            total.next_notification = stats.next_notification
            if not stats.notifications:
                stop.wait(poll_interval)
        return total


def _ids_after(log: EventLog, partition: int, position: int) -> set[str]:
    """Every event id in ``partition`` from ``position`` to its end.

    A Kafka partition's end is a read that returns nothing in time; a slow first fetch could
    pass for it, and a message missed here would be published twice. So the end must be seen
    twice in a row before it is believed (startup only: a few hundred milliseconds).
    """
    found: set[str] = set()
    misses = 0
    while misses < 2:
        records = log.read(partition, position, 1000)
        if not records:
            misses += 1
            continue
        misses = 0
        found.update(record.event_id for record in records)
        position = records[-1].position + 1
    return found
