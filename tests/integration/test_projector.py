"""The projector runtime against both embedded event logs and the real ClickHouse engine."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from events.log import Entry, EventLog
from events.log.memory import MemoryEventLog
from events.log.sqlite import SqliteEventLog
from events.touchpoint import Touchpoint
from projections.clickhouse import ViewStore
from projections.fold_worker import FoldWorkerError
from projections.projector import Projector
from projections.scenes import Scene
from projections.views import (
    ChannelView,
    ComplianceView,
    CustomerView,
    JourneyView,
    SceneView,
    standard_folds,
)
from schemas.serde import TouchpointSerde
from tests.factories import make_touchpoint

SERDE = TouchpointSerde()
CUSTOMERS = [f"C{n}" for n in range(7)]
KINDS = [("complaint", "phone"), ("case_opened", "web"), ("callback", "phone"), ("inquiry", "app")]


@pytest.fixture(params=["memory", "sqlite"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventLog]:
    if request.param == "memory":
        yield MemoryEventLog(partitions=3)
    else:
        with SqliteEventLog(tmp_path / "log.sqlite", partitions=3) as sqlite_log:
            yield sqlite_log


def journeys(per_customer: int = 8) -> list[Touchpoint]:
    """Interleaved journeys of several customers, each in event-time order."""
    return [
        make_touchpoint(customer, *KINDS[i % len(KINDS)], minutes=i * 10 + c)
        for i in range(per_customer)
        for c, customer in enumerate(CUSTOMERS)
    ]


def append(log: EventLog, touchpoints: list[Touchpoint]) -> None:
    log.append([Entry(str(tp.event_id), tp.customer_id, SERDE.encode(tp)) for tp in touchpoints])


def log_ends(log: EventLog) -> dict[int, int]:
    return {p: sum(1 for _ in log.read_all(p)) for p in range(log.partitions)}


def projector(
    log: EventLog, store: ViewStore, scenes: SceneView | None = None, **kw: Any
) -> Projector:
    folds = standard_folds(store)
    if scenes is not None:
        folds[0] = scenes
    return Projector(log, store, folds=folds, **kw)


def checksums(store: ViewStore) -> dict[str, int]:
    """Every view's checksum, computed in ClickHouse."""
    return {
        "journey": JourneyView(store).checksum(),
        "scenes": SceneView(store).checksum(),
        "violations": ComplianceView(store).checksum(),
        "customers": CustomerView(store).checksum(),
        "channels": ChannelView(store).checksum(),
    }


def test_the_journey_view_holds_every_customer_timeline(
    log: EventLog, view_store: ViewStore
) -> None:
    touchpoints = journeys()
    append(log, touchpoints)
    runner = projector(log, view_store, batch_size=5)

    stats = runner.run_once()

    view = JourneyView(view_store)
    assert stats.events == len(touchpoints) == view.count()
    assert stats.undecodable == ()
    for customer in CUSTOMERS:
        expected = sorted(
            (tp for tp in touchpoints if tp.customer_id == customer), key=lambda tp: tp.occurred_at
        )
        timeline = view.timeline(customer)
        assert [e.event_id for e in timeline] == [tp.event_id for tp in expected]
        assert [e.occurred_at for e in timeline] == [tp.occurred_at for tp in expected]


def test_positions_equal_log_ends_and_a_second_run_adds_nothing(
    log: EventLog, view_store: ViewStore
) -> None:
    append(log, journeys())
    runner = projector(log, view_store, batch_size=7)
    first = runner.run_once()
    checksum = JourneyView(view_store).checksum()

    again = runner.run_once()

    ends = log_ends(log)
    assert runner.positions.get("views") == {p: n for p, n in ends.items() if n}
    assert first.positions == ends
    assert (again.events, again.batches) == (0, 0)
    assert JourneyView(view_store).checksum() == checksum


def test_new_events_are_picked_up_incrementally(log: EventLog, view_store: ViewStore) -> None:
    touchpoints = journeys()
    append(log, touchpoints[:20])
    runner = projector(log, view_store)
    runner.run_once()

    append(log, touchpoints[20:])
    stats = runner.run_once()

    assert stats.events == len(touchpoints) - 20
    assert JourneyView(view_store).count() == len(touchpoints)


def reference_checksums(log: EventLog, store: ViewStore) -> dict[str, int]:
    """The checksums of an uninterrupted run over ``log`` (in its own database)."""
    reference = ViewStore(store.client, f"{store.database}_ref")
    reference.ensure()
    try:
        projector(log, reference).run_once()
        return checksums(reference)
    finally:
        reference.drop()


def test_a_projector_stopped_after_one_batch_resumes_to_the_same_view(
    log: EventLog, view_store: ViewStore
) -> None:
    append(log, journeys())
    expected = reference_checksums(log, view_store)

    partial = projector(log, view_store, batch_size=4).run_once(max_batches=1)
    assert partial.events == 4
    projector(log, view_store, batch_size=4).run_once()

    assert checksums(view_store) == expected


class CrashAfterScenes(SceneView):
    """Dies after the scene rows of its ``crash_on``-th batch are written: the journey rows of
    that batch are in, the other folds are not, and the position is not committed."""

    def __init__(self, store: ViewStore, crash_on: int) -> None:
        super().__init__(store)
        self.upserts = 0
        self.crash_on = crash_on

    def upsert(self, scenes: Sequence[Scene], version: int) -> None:
        super().upsert(scenes, version)
        self.upserts += 1
        if self.upserts == self.crash_on:
            raise SystemExit("killed between the view rows and the position commit")


@pytest.mark.parametrize("crash_on", [1, 3, 6])
def test_a_crash_between_rows_and_position_is_absorbed(
    log: EventLog, view_store: ViewStore, crash_on: int
) -> None:
    append(log, journeys())
    expected = reference_checksums(log, view_store)
    crashing = projector(log, view_store, CrashAfterScenes(view_store, crash_on), batch_size=5)

    with pytest.raises(SystemExit):
        crashing.run_once()
    resumed = projector(log, view_store, batch_size=5).run_once()

    assert resumed.events > 0
    assert checksums(view_store) == expected
    assert projector(log, view_store).positions.get("views") == {
        p: n for p, n in log_ends(log).items() if n
    }


def test_an_undecodable_record_is_counted_not_fatal(log: EventLog, view_store: ViewStore) -> None:
    touchpoints = journeys(per_customer=2)
    append(log, touchpoints[:5])
    log.append([Entry("garbage-1", "C1", b"\x00\x00\x00\x00\x01not avro at all")])
    log.append([Entry("garbage-2", "C2", b"")])
    append(log, touchpoints[5:])

    stats = projector(log, view_store, batch_size=3).run_once()

    assert stats.events == len(touchpoints)
    assert sorted(u.event_id for u in stats.undecodable) == ["garbage-1", "garbage-2"]
    assert all(u.reason for u in stats.undecodable)
    assert JourneyView(view_store).count() == len(touchpoints)
    assert sum(stats.positions.values()) == len(touchpoints) + 2, "the projector moved past them"


def test_rebuild_gives_the_same_view(log: EventLog, view_store: ViewStore) -> None:
    append(log, journeys())
    runner = projector(log, view_store)
    runner.run_once()
    before = checksums(view_store)

    stats = runner.rebuild()

    assert stats.events == len(journeys())
    assert checksums(view_store) == before


def test_follow_keeps_up_until_stopped(log: EventLog, view_store: ViewStore) -> None:
    touchpoints = journeys()
    runner = projector(log, view_store)
    stop = threading.Event()
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(runner.follow(stop, 0.02)))
    thread.start()
    try:
        append(log, touchpoints[:30])
        append(log, touchpoints[30:])
        view = JourneyView(view_store)
        for _ in range(250):
            if view.count() == len(touchpoints):
                break
            stop.wait(0.02)
    finally:
        stop.set()
        thread.join(timeout=10)

    assert not thread.is_alive()
    assert result[0].events == len(touchpoints) == JourneyView(view_store).count()


def test_a_tiny_history_cache_evicts_and_reloads_to_the_same_views(
    log: EventLog, view_store: ViewStore
) -> None:
    append(log, journeys())
    expected = reference_checksums(log, view_store)

    stats = projector(log, view_store, batch_size=6, max_facts=5).run_once()

    assert stats.folds.cold > 0, "evicted customers were loaded again from the journey view"
    assert checksums(view_store) == expected


# -- folds in a worker process -------------------------------------------------------------------


def test_folds_in_a_worker_process_give_the_same_views(
    log: EventLog, view_store: ViewStore
) -> None:
    touchpoints = journeys()
    append(log, touchpoints[:30])
    expected_before = reference_checksums(log, view_store)
    runner = projector(log, view_store, batch_size=4, max_facts=5, fold_process=True)
    try:
        first = runner.run_once()
        assert checksums(view_store) == expected_before
        append(log, touchpoints[30:])
        expected = reference_checksums(log, view_store)
        runner.run_once()
        assert checksums(view_store) == expected
        assert first.folds.cold > 0, "evicted customers were asked of this process and loaded"
        runner.rebuild()
        assert checksums(view_store) == expected
    finally:
        runner.close()


def test_a_worker_resumes_views_written_in_process(log: EventLog, view_store: ViewStore) -> None:
    """A worker started on non-empty views asks for stored keys and the highest version."""
    touchpoints = journeys()
    append(log, touchpoints[:25])
    projector(log, view_store, batch_size=5, fold_process=False).run_once()
    append(log, touchpoints[25:])
    expected = reference_checksums(log, view_store)
    runner = projector(log, view_store, batch_size=5, fold_process=True)
    try:
        stats = runner.run_once()
    finally:
        runner.close()
    assert stats.folds.cold > 0
    assert checksums(view_store) == expected


class FailingScenes(SceneView):
    """Fails in the fold worker: the failure must reach the projector as an error."""

    def fold(self, facts: Sequence[Any], scratch: dict[str, Any]) -> dict[Any, Scene]:
        raise ValueError("a fold that fails")


def test_a_failing_fold_in_the_worker_is_raised_in_the_projector(
    log: EventLog, view_store: ViewStore
) -> None:
    append(log, journeys())
    runner = projector(log, view_store, FailingScenes(view_store), batch_size=5, fold_process=True)
    try:
        with pytest.raises(FoldWorkerError, match="a fold that fails"):
            runner.run_once()
        assert runner.positions.get("views") == {}, "no position without the fold rows"
    finally:
        runner.close()


def test_a_killed_worker_is_an_error_and_the_next_run_recovers(
    log: EventLog, view_store: ViewStore
) -> None:
    touchpoints = journeys()
    append(log, touchpoints[:20])
    runner = projector(log, view_store, batch_size=5, fold_process=True)
    try:
        runner.run_once()
        assert runner._worker is not None and runner._worker.pid is not None
        os.kill(runner._worker.pid, signal.SIGKILL)
        append(log, touchpoints[20:])
        expected = reference_checksums(log, view_store)
        with pytest.raises(FoldWorkerError):
            runner.run_once()
        runner.run_once()
    finally:
        runner.close()
    assert checksums(view_store) == expected
