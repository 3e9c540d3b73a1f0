"""``servicetrace rebuild`` on the real ClickHouse engine: shadow tables swapped in atomically.

What must hold: a rebuild yields views identical to the live ones (checksums) and decisions
with identical ids; the live views answer, with their full content, during the whole rebuild;
nothing is published again; the live projector carries on correctly on the swapped tables;
a rebuild after a rules change applies the difference once; a failed rebuild leaves the live
views as they were.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from events.log import EventLog, LogRecord
from events.log.memory import MemoryEventLog
from projections.clickhouse import ViewStore
from projections.folding import FoldView
from projections.projector import Projector
from projections.risk import RuleSet
from projections.views import JourneyView, standard_folds
from replay.rebuild import rebuild_views
from services.platform import Platform
from services.rebuild import rebuild, selected
from services.settings import Settings
from tests.integration.test_risk_engine import append, generated

TOUCHPOINTS = generated(customers=50, days=40, seed=5)
FIRST, LATER = TOUCHPOINTS[: len(TOUCHPOINTS) * 3 // 4], TOUCHPOINTS[len(TOUCHPOINTS) * 3 // 4 :]


@pytest.fixture
def platform(tmp_path: Path, view_store: ViewStore) -> Iterator[Platform]:
    """A whole platform in memory but for the views (the session's chdb, a fresh database),
    with the first three quarters of the touchpoints projected, decided and published."""
    settings = Settings(home=tmp_path, log="memory", partitions=3, projection_batch_size=500)
    with Platform(settings) as platform:
        platform.__dict__["view_store"] = view_store
        append(platform.log, FIRST)
        run_pipeline(platform)
        yield platform


def run_pipeline(platform: Platform) -> int:
    """What ``servicetrace project`` does; returns the messages published."""
    platform.projector.run_once()
    platform.risk_engine.run_once()
    return sum(platform.relay.run_once().published.values())


def decision_ids(platform: Platform) -> set[str]:
    customers = platform.journey_view.customer_ids()
    return set().union(*platform.decisions.decision_ids(customers).values())


def published(platform: Platform) -> dict[str, int]:
    """How many messages each decision log holds."""
    return {topic: _size(log) for topic, log in platform.decision_logs.items()}


def _size(log: EventLog) -> int:
    return sum(len(log.read(p, 0, 1_000_000)) for p in range(log.partitions))


def fresh_checksums(log: EventLog, store: ViewStore) -> dict[str, int]:
    """The views of ``log`` projected from scratch into another database."""
    projector = Projector(log, store, folds=standard_folds(store), batch_size=10_000)
    projector.run_once()
    views = {"journey": projector.journey.checksum()}
    views.update((view.name, view.checksum()) for view in projector.folds.views)  # type: ignore[attr-defined]
    return views


def test_a_rebuild_gives_identical_views_and_decision_ids_and_publishes_nothing(
    platform: Platform,
) -> None:
    before = platform.view_checksums()
    ids, sent = decision_ids(platform), published(platform)
    notifications = platform.decisions.recorder.max_notification_id()
    assert ids and sum(sent.values()) > 0

    report = rebuild(platform, ["all"])

    assert platform.view_checksums() == before
    assert report["views"]["swapped"] == ["journey", "scenes", "violations", "customers"]
    assert report["views"]["positions_swapped"] and report["views"]["generation"] == 1
    assert report["views"]["events"] == len(FIRST)
    risk = report["risk"]
    assert risk["identical"] and (risk["applied"], risk["withdrawn"]) == (0, 0)
    assert risk["rebuilt_decisions"] == risk["production_decisions"] == len(ids)
    assert decision_ids(platform) == ids
    assert platform.decisions.recorder.max_notification_id() == notifications
    assert run_pipeline(platform) == 0, "nothing to publish after a rebuild"
    assert published(platform) == sent


def test_the_live_views_answer_in_full_during_the_whole_rebuild(platform: Platform) -> None:
    journey = platform.journey_view
    customer = journey.customers(limit=1)[0][0]
    expected = (journey.count(), journey.checksum(), len(journey.timeline(customer)))
    seen: list[tuple[int, int, int]] = []
    stop = threading.Event()
    lock = platform.projector.lock

    def read_while_rebuilding() -> None:
        while not stop.is_set():
            seen.append((journey.count(), journey.checksum(), len(journey.timeline(customer))))

    def caught_up() -> None:
        # The shadow is complete but not yet swapped in: the live tables still answer, and the
        # live projector is free (the lock is taken only for the swap itself).
        assert lock.acquire(blocking=False)
        lock.release()
        assert (journey.count(), journey.checksum()) == expected[:2]

    reader = threading.Thread(target=read_while_rebuilding)
    reader.start()
    try:
        rebuild(platform, ["views"], on_caught_up=caught_up)
    finally:
        stop.set()
        reader.join()
    assert len(seen) >= 2
    assert set(seen) == {expected}, "every read during the rebuild saw the whole view"


def test_the_live_projector_carries_on_correctly_on_the_swapped_tables(
    platform: Platform, chdb_client: Any
) -> None:
    rebuild(platform, ["all"])
    append(platform.log, LATER)
    run_pipeline(platform)
    other = ViewStore(chdb_client, f"{platform.view_store.database}_fresh")
    other.ensure()
    try:
        want = fresh_checksums(platform.log, other)
    finally:
        other.drop()
    got = platform.view_checksums()["views"]
    assert {name: got[name] for name in want} == want
    assert platform.journey_view.count() == len(TOUCHPOINTS)


def test_one_view_rebuilt_alone_repairs_it_and_leaves_the_others(platform: Platform) -> None:
    before = platform.view_checksums()
    store = platform.view_store
    scenes = platform.scene_view.rows.table
    store.command(f"TRUNCATE TABLE {scenes}")
    assert platform.view_checksums()["views"]["scenes"] != before["views"]["scenes"]
    uuids = _table_uuids(store)

    report = rebuild(platform, ["scenes"])

    assert report["views"]["swapped"] == ["scenes"] and not report["views"]["positions_swapped"]
    assert "risk" not in report
    assert platform.view_checksums() == before
    after = _table_uuids(store)
    assert after["scenes"] != uuids["scenes"], "the scenes table was swapped"
    assert {k: v for k, v in after.items() if k != "scenes"} == {
        k: v for k, v in uuids.items() if k != "scenes"
    }, "no other table was touched"


def test_a_rebuild_after_a_rules_change_applies_the_difference_once(platform: Platform) -> None:
    ids, sent = decision_ids(platform), published(platform)
    platform.__dict__["rules"] = RuleSet.model_validate(
        {"repeat_request": {"threshold": 2, "version": 2}}
    )

    first = rebuild(platform, ["risk"])["risk"]
    assert not first["identical"]
    assert first["applied"] > 0
    new = {i for found in first["only_rebuilt"].values() for i in found}
    assert decision_ids(platform) == (ids | new) - {
        i for gone in first["only_production"].values() for i in gone
    }
    assert run_pipeline(platform) > 0, "the new decisions are published"
    after_first = published(platform)

    second = rebuild(platform, ["risk"])["risk"]
    assert second["identical"] and (second["applied"], second["withdrawn"]) == (0, 0)
    assert run_pipeline(platform) == 0
    assert published(platform) == after_first
    assert sum(after_first.values()) > sum(sent.values())


def test_a_failed_rebuild_leaves_the_live_views_and_drops_the_shadow(platform: Platform) -> None:
    before = platform.view_checksums()

    def fail() -> None:
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        rebuild(platform, ["views"], on_caught_up=fail)
    assert platform.view_checksums() == before
    assert platform.projector.generation() == 0
    databases = platform.view_store.rows("SELECT name FROM system.databases")
    assert f"{platform.view_store.database}__rebuild" not in {row[0] for row in databases}


class SwapDuringRead(MemoryEventLog):
    """A log whose next read first runs ``hook`` once (a swap landing mid-pass)."""

    hook: Callable[[], None] | None = None

    def read(self, partition: int, position: int, limit: int = 1000) -> list[LogRecord]:
        hook, self.hook = self.hook, None
        if hook is not None:
            hook()
        return super().read(partition, position, limit)


def test_a_swap_in_the_middle_of_another_projectors_pass_loses_nothing(
    view_store: ViewStore, chdb_client: Any
) -> None:
    """Two projectors on one store stand for two processes (a ClickHouse server deployment):
    the rebuild runs through one while the other is in the middle of a pass. The stale pass
    commits under the old generation's key, which the new generation never reads."""
    log = SwapDuringRead(partitions=3)
    append(log, FIRST)
    rebuilder = Projector(log, view_store, folds=standard_folds(view_store), batch_size=500)
    rebuilder.run_once()
    other = Projector(log, view_store, folds=standard_folds(view_store), batch_size=500)
    assert other.run_once().events == 0  # it has read generation 0
    append(log, LATER)

    def views_in(store: ViewStore) -> tuple[JourneyView, list[FoldView]]:
        return JourneyView(store), standard_folds(store)

    def swap() -> None:
        rebuild_views(rebuilder, views_in)

    log.hook = swap
    stale = other.run_once()  # the swap lands before its first read

    assert stale.events == len(LATER), "the stale pass wrote what it read"
    generation, positions = rebuilder.positions.current(rebuilder.name)
    assert generation == 1
    assert sum(positions.values()) == len(TOUCHPOINTS), "its commit did not move generation 1"
    assert other.run_once().events == 0, "it then sees generation 1 and resumes there"
    fresh = ViewStore(chdb_client, f"{view_store.database}_fresh")
    fresh.ensure()
    try:
        want = fresh_checksums(log, fresh)
    finally:
        fresh.drop()
    got = {"journey": other.journey.checksum()}
    got.update((view.name, view.checksum()) for view in other.folds.views)  # type: ignore[attr-defined]
    assert got == want


def test_projection_names_select_views_and_decisions() -> None:
    assert selected([]) == (["journey", "scenes", "violations", "customers"], True)
    assert selected(["views"]) == (["journey", "scenes", "violations", "customers"], False)
    assert selected(["risk"]) == ([], True)
    assert selected(["scenes", "journey"]) == (["journey", "scenes"], False)


def _table_uuids(store: ViewStore) -> dict[str, str]:
    rows = store.rows(
        "SELECT name, toString(uuid) FROM system.tables WHERE database = {db:String}",
        {"db": store.database},
    )
    return {str(name): str(uuid) for name, uuid in rows}
