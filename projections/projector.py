"""The projector runtime: folds the event log into views, per partition, with tracked positions.

For each partition the projector reads its next position, reads a batch of records from the
log, decodes them, lets every view write its rows, and only *then* commits the next position
(kept in ClickHouse beside the views, see :mod:`projections.positions`). A crash between the
rows and the position re-delivers the batch, and every view is keyed so that a re-delivered row
replaces itself: the effect is exactly-once (idempotent-after) with no distributed transaction.

Views plug in through the :class:`Projection` protocol, so scenes, customers and channels can
be added without touching this loop. Projections see event time only (the touchpoint's own
``occurred_at`` / ``recorded_at``), never the wall clock, so a rebuild gives the same views.

A record that does not decode never stops the projector (one bad record must not block a
partition forever) and is never dropped silently: it is logged with its event id and position
and counted in :class:`ProjectionStats`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from events.log import EventLog, LogRecord
from events.touchpoint import Touchpoint
from projections.clickhouse import ViewStore
from projections.positions import ClickHousePositionStore
from schemas.serde import touchpoint_from_avro

__all__ = [
    "Batch",
    "Decoder",
    "Projection",
    "ProjectionStats",
    "Projector",
    "Undecodable",
]

logger = logging.getLogger(__name__)


class Decoder(Protocol):
    """What the projector needs of the serde (:class:`schemas.serde.TouchpointSerde`).

    ``decode_dict`` gives fastavro's plain record, half the cost of building models; the
    projector turns records into :class:`Touchpoint` models only when a view asks for them.
    """

    def decode_dict(self, data: bytes) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Batch:
    """Decoded touchpoints of one partition, with the log position each was read from.

    ``records`` are the decoded Avro records (the fast path for bulk views); ``touchpoints``
    are the same events as models, present when a view needs them (or when a test builds the
    batch from models only). Both, when present, are aligned with ``positions``.
    """

    partition: int
    positions: Sequence[int]
    touchpoints: Sequence[Touchpoint] = ()
    records: Sequence[Mapping[str, Any]] = ()

    def __len__(self) -> int:
        return len(self.positions)


class Projection(Protocol):
    """A view the projector keeps current. Writing the same batch twice must change nothing."""

    name: str
    #: Whether :meth:`rows` reads ``batch.touchpoints`` (models cost a second decoding step).
    needs_touchpoints: bool

    def ensure(self) -> None:
        """Create the view's tables if they do not exist."""

    def rows(self, batch: Batch) -> Any:
        """The view's rows for ``batch`` (pure: no I/O, event time only)."""

    def insert(self, rows: Any) -> None:
        """Write ``rows`` produced by :meth:`rows`."""

    def reset(self) -> None:
        """Empty the view, for a rebuild from position 0."""


@dataclass(frozen=True, slots=True)
class Undecodable:
    """A record the serde could not decode: where it is and why."""

    partition: int
    position: int
    event_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class ProjectionStats:
    """What one run did: touchpoints projected, records that did not decode, batches written."""

    events: int = 0
    batches: int = 0
    undecodable: tuple[Undecodable, ...] = ()
    positions: Mapping[int, int] = field(default_factory=dict)

    @property
    def undecodable_count(self) -> int:
        return len(self.undecodable)

    def __add__(self, other: ProjectionStats) -> ProjectionStats:
        return ProjectionStats(
            events=self.events + other.events,
            batches=self.batches + other.batches,
            undecodable=self.undecodable + other.undecodable,
            positions={**self.positions, **other.positions},
        )


@dataclass(slots=True)
class _Tally:
    events: int = 0
    batches: int = 0
    undecodable: list[Undecodable] = field(default_factory=list)
    positions: dict[int, int] = field(default_factory=dict)

    def freeze(self) -> ProjectionStats:
        return ProjectionStats(
            self.events, self.batches, tuple(self.undecodable), dict(self.positions)
        )


class Projector:
    """Keeps ``views`` current with ``log``; positions are tracked under the consumer ``name``."""

    def __init__(
        self,
        log: EventLog,
        serde: Decoder,
        views: Sequence[Projection],
        store: ViewStore,
        *,
        name: str = "journey",
        batch_size: int = 5000,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.log = log
        self.name = name
        self.views = list(views)
        self.batch_size = batch_size
        self._serde = serde
        self._needs_touchpoints = any(view.needs_touchpoints for view in self.views)
        self.positions = ClickHousePositionStore(store)
        store.ensure()
        self.positions.ensure()
        for view in self.views:
            view.ensure()

    def run_once(self, max_batches: int | None = None) -> ProjectionStats:
        """Catch every partition up to the log's current end (or stop after ``max_batches``)."""
        tally = _Tally()
        committed = self.positions.get(self.name)
        for partition in range(self.log.partitions):
            position = committed.get(partition, 0)
            tally.positions[partition] = self._catch_up(partition, position, tally, max_batches)
        return tally.freeze()

    def _catch_up(
        self, partition: int, position: int, tally: _Tally, max_batches: int | None
    ) -> int:
        while max_batches is None or tally.batches < max_batches:
            records = self.log.read(partition, position, self.batch_size)
            if not records:
                break
            self._project(partition, records, tally)
            position = records[-1].position + 1
            self.positions.commit(self.name, {partition: position})
            tally.batches += 1
        return position

    def _project(self, partition: int, records: Sequence[LogRecord], tally: _Tally) -> None:
        batch = self._decode(partition, records, tally)
        if batch.positions:
            for view in self.views:
                view.insert(view.rows(batch))
        tally.events += len(batch)

    def _decode(self, partition: int, records: Sequence[LogRecord], tally: _Tally) -> Batch:
        positions: list[int] = []
        decoded: list[dict[str, Any]] = []
        touchpoints: list[Touchpoint] = []
        decode, models = self._serde.decode_dict, self._needs_touchpoints
        for record in records:
            try:
                avro = decode(record.value)
                if models:
                    touchpoints.append(touchpoint_from_avro(avro))
            except Exception as exc:  # any failure to decode is counted, never fatal
                tally.undecodable.append(self._undecodable(record, exc))
                continue
            decoded.append(avro)
            positions.append(record.position)
        return Batch(partition, positions, touchpoints, decoded)

    def _undecodable(self, record: LogRecord, exc: Exception) -> Undecodable:
        reason = f"{type(exc).__name__}: {exc}"[:500]
        logger.warning(
            "projector %s: record %s at partition %d position %d does not decode (%s)",
            self.name,
            record.event_id,
            record.partition,
            record.position,
            reason,
        )
        return Undecodable(record.partition, record.position, record.event_id, reason)

    def follow(
        self,
        stop: threading.Event,
        poll_interval: float = 0.5,
        heartbeat: Callable[[ProjectionStats], None] | None = None,
    ) -> ProjectionStats:
        """Keep catching up until ``stop`` is set; sleep ``poll_interval`` when idle.

        ``heartbeat`` is called after every pass, idle or not, so a supervisor (a container
        healthcheck) can tell a quiet projector from a stuck one.
        """
        total = ProjectionStats()
        while not stop.is_set():
            stats = self.run_once()
            total = total + stats
            if heartbeat is not None:
                heartbeat(stats)
            if stats.batches == 0:
                stop.wait(poll_interval)
        return total

    def rebuild(self) -> ProjectionStats:
        """Empty the views and project the whole log again from position 0.

        Positions are reset *before* the views are emptied: a crash in between leaves full
        views with no positions, which re-projection dedupes; the other order could leave empty
        views with positions at the end, which would lose everything.
        """
        self.positions.reset(self.name)
        for view in self.views:
            view.reset()
        return self.run_once()
