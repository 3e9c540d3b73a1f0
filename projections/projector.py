"""The projector runtime: folds the event log into views, per partition, with tracked positions.

The projector reads each partition from its next position, in batches of records (a batch
may hold the end of one partition and the start of the next), and for each batch:

1. the **journey view** stores the batch (ClickHouse decodes the Avro itself, see
   :mod:`projections.inbox`) and hands it back as compact :class:`~projections.facts.Fact`
   tuples;
2. the **fold views** (scenes, compliance, customers) refold the customers the batch touched
   and write only what changed (:mod:`projections.folding`);
3. only *then* the next positions are committed, in one write (kept in ClickHouse beside the
   views, see :mod:`projections.positions`).

A crash anywhere before step 3 re-delivers the batch: the journey rows are keyed by the
touchpoint and the fold rows by their own keys with ever-growing versions, so the repeat
replaces rows with identical copies. The effect is exactly-once (idempotent-after) with no
distributed transaction. Folds see event time only, never the wall clock, so a rebuild gives
the same views.

The folds run in this process or, for big batches on a machine with a second core, in a fold
worker process (:mod:`projections.fold_worker`), which gets that core for the GIL-bound folds
while this process reads the log and the facts and writes the rows. ``fold_process`` chooses;
by default (``None``) the worker is used when ``batch_size`` is at least
:data:`FOLD_PROCESS_MIN_BATCH` and the machine has two cores or more: for small batches the
pipe's round trip and the worker's start cost more than the second core gains.

A record that does not decode never stops the projector (one bad record must not block a
partition forever) and is never dropped silently: it is logged with its event id and position
and reported in :class:`ProjectionStats`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import cast

from events.log import EventLog, LogRecord
from events.resources import quiet_gc
from projections.clickhouse import ViewStore
from projections.facts import Fact
from projections.fold_worker import MAX_IN_FLIGHT, EncodingView, FoldProcess, Inserts
from projections.folding import FoldRunner, FoldStats, FoldView
from projections.positions import GENERATION_SUFFIX, ClickHousePositionStore, consumer_key
from projections.views.fold_table import FoldTableView
from projections.views.journey_view import FactColumns, JourneyView, Undecodable

__all__ = [
    "FOLD_PROCESS_MIN_BATCH",
    "ProjectionStats",
    "Projector",
    "Undecodable",
]

#: The smallest batch for which the projector folds in a worker process by default.
FOLD_PROCESS_MIN_BATCH = 10_000

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProjectionStats:
    """What one run did: touchpoints projected, records that did not decode, batches written,
    and what the folds wrote."""

    events: int = 0
    batches: int = 0
    undecodable: tuple[Undecodable, ...] = ()
    positions: Mapping[int, int] = field(default_factory=dict)
    folds: FoldStats = field(default_factory=FoldStats)

    @property
    def undecodable_count(self) -> int:
        return len(self.undecodable)

    def __add__(self, other: ProjectionStats) -> ProjectionStats:
        folds = FoldStats()
        folds.add(self.folds)
        folds.add(other.folds)
        return ProjectionStats(
            events=self.events + other.events,
            batches=self.batches + other.batches,
            undecodable=self.undecodable + other.undecodable,
            positions={**self.positions, **other.positions},
            folds=folds,
        )


#: One batch: the records of one or more partitions, each partition's in position order.
_Batch = list[tuple[int, list[LogRecord]]]


@dataclass(frozen=True, slots=True)
class _Stored:
    """A batch handed to the writer thread for the journey view; ``ranges`` maps each of its
    partitions to the first and last position it holds."""

    ranges: dict[int, tuple[int, int]]
    count: int
    written: Future[list[Undecodable]]


@dataclass(frozen=True, slots=True)
class _Folded:
    """A batch whose fold rows the writer thread is writing; its positions are not committed."""

    next_positions: dict[int, int]
    written: Future[None]


class _Pipeline:
    """The order of :meth:`Projector.run_once`'s stages, one batch apart (see its doc)."""

    def __init__(self, projector: Projector, writer: ThreadPoolExecutor, tally: _Tally) -> None:
        self._projector = projector
        self._writer = writer
        self._tally = tally
        self._stored: _Stored | None = None
        self._folded: _Folded | None = None

    def push(self, batch: _Batch) -> None:
        """Take the next batch: fold the previous one while the writer stores this one."""
        facts = self._finish_previous()
        journey = self._projector.journey
        records = _records(batch)
        written = self._writer.submit(journey.write, records)
        stored = self._stored
        self._stored = _Stored(_ranges(batch), len(records), written)
        if stored is not None:
            self._fold(stored, facts)

    def drain(self) -> None:
        """Fold and commit whatever is still in flight."""
        facts = self._finish_previous()
        stored, self._stored = self._stored, None
        if stored is not None:
            self._fold(stored, facts)
        self._commit()

    def _finish_previous(self) -> list[Fact]:
        """Wait for the stored batch's journey rows and read its facts back; commit the batch
        folded before it once its rows are written."""
        stored = self._stored
        if stored is None:
            return []
        bad = stored.written.result()
        self._commit()
        self._tally.undecodable.extend(bad)
        self._tally.events += stored.count - len(bad)
        return self._projector.journey.facts_in(stored.ranges)

    def _fold(self, stored: _Stored, facts: list[Fact]) -> None:
        projector = self._projector
        # A customer lives in one partition, so the batch's customers are complete when each
        # of its partitions is.
        complete = projector._complete.issuperset(stored.ranges)
        stats, write = projector.folds.fold(facts, complete_history=complete)
        self._tally.folds.add(stats)
        self._folded = _Folded(_ends(stored), self._writer.submit(write))

    def _commit(self) -> None:
        folded, self._folded = self._folded, None
        if folded is not None:
            _commit(self._projector, self._tally, folded)


@dataclass(frozen=True, slots=True)
class _Sent:
    """A batch the fold worker is folding; its positions are not committed."""

    next_positions: dict[int, int]


class _WorkerPipeline:
    """:class:`_Pipeline` with the folds in the worker process, further apart.

    Batch k is handed to the worker as soon as its facts are read back, while the worker may
    still fold batch k-1: the worker goes from one batch to the next without waiting for this
    process. Then batch k-1's encoded rows are collected (the worker's questions answered
    meanwhile) and their write is queued behind batch k+1's journey insert. Positions are
    committed once a batch's rows are written, as in process.
    """

    def __init__(
        self, projector: Projector, worker: FoldProcess, writer: ThreadPoolExecutor, tally: _Tally
    ) -> None:
        self._projector = projector
        self._worker = worker
        self._writer = writer
        self._tally = tally
        self._stored: _Stored | None = None
        self._sent: deque[_Sent] = deque()
        self._folded: _Folded | None = None

    def push(self, batch: _Batch) -> None:
        """Take the next batch (see the class doc for what overlaps what)."""
        columns = self._finish_stored()
        stored = self._stored
        records = _records(batch)
        written = self._writer.submit(self._projector.journey.write, records)
        self._stored = _Stored(_ranges(batch), len(records), written)
        if stored is not None:
            self._send(stored, columns)
        if len(self._sent) >= MAX_IN_FLIGHT:
            self._collect()

    def drain(self) -> None:
        """Fold, write and commit whatever is still in flight."""
        columns = self._finish_stored()
        stored, self._stored = self._stored, None
        if stored is not None:
            self._send(stored, columns)
        while self._sent:
            self._collect()
        self._commit()

    def _finish_stored(self) -> FactColumns:
        """Wait for the stored batch's journey rows and read its facts back, as columns."""
        stored = self._stored
        if stored is None:
            return []
        bad = stored.written.result()
        self._tally.undecodable.extend(bad)
        self._tally.events += stored.count - len(bad)
        journey = self._projector.journey
        return journey.fact_columns_in(stored.ranges)

    def _send(self, stored: _Stored, columns: FactColumns) -> None:
        complete = self._projector._complete.issuperset(stored.ranges)
        self._worker.submit(columns, complete)
        self._sent.append(_Sent(_ends(stored)))

    def _collect(self) -> None:
        """Take the worker's result for the oldest batch it has and queue its rows' write."""
        sent = self._sent.popleft()
        stats, inserts = self._worker.result()
        self._tally.folds.add(stats)
        self._commit()
        written = self._writer.submit(self._write, inserts)
        self._folded = _Folded(sent.next_positions, written)

    def _write(self, inserts: Inserts) -> None:
        """Write a batch's fold rows; then let the engine give back what the batch used."""
        self._worker.write(inserts)
        self._projector.journey.store.release_memory()

    def _commit(self) -> None:
        folded, self._folded = self._folded, None
        if folded is not None:
            _commit(self._projector, self._tally, folded)


def _commit(projector: Projector, tally: _Tally, folded: _Folded) -> None:
    """Commit ``folded``'s positions once its fold rows are written (re-raising a failure)."""
    folded.written.result()
    projector.positions.commit(projector.consumer, folded.next_positions)
    tally.positions.update(folded.next_positions)
    tally.batches += 1


def _records(batch: _Batch) -> list[LogRecord]:
    return batch[0][1] if len(batch) == 1 else [r for _, part in batch for r in part]


def _ranges(batch: _Batch) -> dict[int, tuple[int, int]]:
    """Each partition of ``batch`` → the first and last position it holds."""
    return {partition: (part[0].position, part[-1].position) for partition, part in batch}


def _ends(stored: _Stored) -> dict[int, int]:
    """The next position of each partition once ``stored`` is committed."""
    return {partition: last + 1 for partition, (_, last) in stored.ranges.items()}


@dataclass(slots=True)
class _Tally:
    events: int = 0
    batches: int = 0
    undecodable: list[Undecodable] = field(default_factory=list)
    positions: dict[int, int] = field(default_factory=dict)
    folds: FoldStats = field(default_factory=FoldStats)

    def freeze(self) -> ProjectionStats:
        return ProjectionStats(
            self.events, self.batches, tuple(self.undecodable), dict(self.positions), self.folds
        )


class Projector:
    """Keeps the journey view and ``folds`` current with ``log``; positions are tracked under
    the consumer ``name``."""

    def __init__(
        self,
        log: EventLog,
        store: ViewStore,
        *,
        journey: JourneyView | None = None,
        folds: Sequence[FoldView] = (),
        name: str = "views",
        batch_size: int = 5000,
        max_facts: int = 2_000_000,
        fold_process: bool | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.log = log
        self.name = name
        self.batch_size = batch_size
        self.journey = journey or JourneyView(store)
        self.folds = FoldRunner(self.journey, folds, max_facts=max_facts)
        self.max_facts = max_facts
        self.fold_process = _use_fold_process(fold_process, batch_size, folds)
        self._worker: FoldProcess | None = None
        self.positions = ClickHousePositionStore(store)
        #: Partitions this process read from position 0: every fact of their customers went
        #: through this projector's folds (see :meth:`FoldRunner.apply`).
        self._complete: set[int] = set()
        #: Held by every pass; a rebuild takes it to swap the tables between two passes.
        self.lock = threading.RLock()
        self._generation: int | None = None
        store.ensure()
        self.positions.ensure()
        self.journey.ensure()
        for view in self.folds.views:
            view.ensure()

    def run_once(self, max_batches: int | None = None) -> ProjectionStats:
        """Catch every partition up to the log's current end (or stop after ``max_batches``).

        ClickHouse releases the GIL while it decodes and writes, so the writes run in a helper
        thread beside this thread's Python work (measured: +25% each; the rest of the work
        holds the GIL and gains nothing from threads). While batch k is folded here, the helper
        stores batch k+1 in the journey view, then writes batch k's fold rows; batch k's
        positions are committed only once those rows are written. The journey view may hold a
        batch or two more than the committed positions say: a crash re-delivers them and the
        journey deduplicates. With a fold worker (:class:`_WorkerPipeline`) the folds leave
        this process, and the same order holds one batch further apart.

        A failed run forgets the fold state (and stops the worker): it may be ahead of what was
        written, and the next run reloads the customers it meets from the views.
        """
        with self.lock:
            tally = _Tally()
            committed = self._committed()
            tally.positions = {p: committed.get(p, 0) for p in range(self.log.partitions)}
            try:
                with quiet_gc(), ThreadPoolExecutor(1, thread_name_prefix="view-writes") as writer:
                    pipeline = self._pipeline(writer, tally)
                    for batch in self._batches(committed, max_batches):
                        pipeline.push(batch)
                    pipeline.drain()
            except BaseException:
                self._forget_folds()
                raise
            return tally.freeze()

    @property
    def generation_consumer(self) -> str:
        """Where the views' generation is kept, beside the positions (see :meth:`_committed`)."""
        return f"{self.name}{GENERATION_SUFFIX}"

    @property
    def consumer(self) -> str:
        """Where this projector commits its positions: keyed by the generation of the views it
        last read (:func:`~projections.positions.consumer_key`)."""
        return consumer_key(self.name, self._generation or 0)

    def generation(self) -> int:
        """How many times the views were swapped for rebuilt ones (0: never)."""
        return self.positions.current(self.name)[0]

    def committed(self) -> dict[int, int]:
        """The positions committed in the current generation of the views."""
        return self.positions.current(self.name)[1]

    def _committed(self) -> dict[int, int]:
        """The committed positions; forgets the fold state when the views were swapped.

        A rebuild (:mod:`replay.rebuild`) replaces the tables under this projector and bumps the
        generation. The folds' cached histories, rows and versions describe the old tables, so
        they are dropped and customers are loaded again from the new ones. Positions are kept
        per generation, so a pass that started before a swap (in another process) commits where
        the new generation never looks, and its records are simply read again.
        """
        generation, positions = self.positions.current(self.name)
        if self._generation is not None and generation != self._generation:
            logger.info("views were rebuilt (generation %d): fold state forgotten", generation)
            self.forget()
        self._generation = generation
        return positions

    def forget(self) -> None:
        """Drop every cached history and fold row (the views were swapped or reset)."""
        with self.lock:
            self._forget_folds()

    def _pipeline(self, writer: ThreadPoolExecutor, tally: _Tally) -> _Pipeline | _WorkerPipeline:
        if not self.fold_process:
            return _Pipeline(self, writer, tally)
        if self._worker is None:
            views = [cast(EncodingView, view) for view in self.folds.views]
            self._worker = FoldProcess(self.journey, views, self.max_facts)
        return _WorkerPipeline(self, self._worker, writer, tally)

    def _forget_folds(self) -> None:
        """After a failed run the fold state may be ahead of what was written (a batch folded,
        its rows never written): forget it, so customers are loaded again from the views."""
        self.folds.clear()
        self._complete.clear()
        self.close()

    def close(self) -> None:
        """Stop the fold worker, if one runs (a later run starts a new one)."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.close()

    def _batches(self, committed: Mapping[int, int], max_batches: int | None) -> Iterator[_Batch]:
        """Batches of up to ``batch_size`` records from every partition's committed position.

        A batch spans partitions: the tail of one and the head of the next share it, so a pass
        that finds a few records in each partition (a live projector following the log) stores,
        folds and commits them once, not once per partition (each of those is a ClickHouse
        round trip of ~10 ms, whatever the batch's size). A read that returns fewer records than
        asked for reached the partition's end: the next partition follows without another read,
        which on Kafka would cost a whole poll timeout. Records appended meanwhile are the next
        pass's.
        """
        count = 0
        batch: _Batch = []
        size = 0
        for partition in range(self.log.partitions):
            position = committed.get(partition, 0)
            if position == 0:
                self._complete.add(partition)
            while max_batches is None or count < max_batches:
                wanted = self.batch_size - size
                records = self.log.read(partition, position, wanted)
                if not records:
                    break
                batch.append((partition, records))
                size += len(records)
                position = records[-1].position + 1
                if size >= self.batch_size:
                    yield batch
                    batch, size = [], 0
                    count += 1
                elif len(records) < wanted:
                    break
        if batch:
            yield batch

    def follow(
        self,
        stop: threading.Event,
        poll_interval: float = 0.5,
        heartbeat: Callable[[ProjectionStats], None] | None = None,
    ) -> ProjectionStats:
        """Keep catching up until ``stop`` is set; sleep ``poll_interval`` when idle.

        ``heartbeat`` is called after every pass, idle or not, so a supervisor (a container
        healthcheck) can tell a quiet projector from a stuck one.

        The whole loop, heartbeat included (the live risk engine and relay run there), is under
        :func:`~events.resources.quiet_gc`, not just each pass: otherwise the cyclic GC's full
        collections, which walk every cached history and fold row, come every few seconds
        while the caches grow and stall the pass they land in (measured at 2,000 touchpoints/s:
        0.07 s at first, 0.6 s once a million objects were tracked: the worst alert latencies).
        Young garbage cycles are still collected; full collections become rare.
        """
        total = ProjectionStats()
        with quiet_gc():
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
        self._committed()
        self.positions.reset(self.consumer)
        self.journey.reset()
        for view in self.folds.views:
            view.reset()
        self.folds.clear()
        if self._worker is not None:
            self._worker.clear()
        self._complete.clear()
        return self.run_once()


def _use_fold_process(wanted: bool | None, batch_size: int, views: Sequence[FoldView]) -> bool:
    """Whether to fold in a worker process (see the module doc); only views that can encode
    their rows apart from sending them (fold tables) can be folded there."""
    if not views or not all(isinstance(view, FoldTableView) for view in views):
        if wanted:
            raise ValueError("only fold-table views can be folded in a worker process")
        return False
    if wanted is not None:
        return wanted
    return batch_size >= FOLD_PROCESS_MIN_BATCH and (os.cpu_count() or 1) >= 2
