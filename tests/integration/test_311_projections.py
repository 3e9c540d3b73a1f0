"""The real NYC and LA 311 exports, ingested into an embedded log and projected into every view.

Each city is ingested through the ingest pipeline (CSV mapping -> intake -> Avro -> SQLite log in
``tmp_path``) and projected by the projector with all views into its own ClickHouse database on
the session's embedded engine. Run with ``-s`` to see each city's channel mix and
first-contact-resolution figures.

Like ``test_311_connectors``: without the files the tests skip locally and fail under
``CI=true``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client

from events.deadletter.sqlite import SqliteDeadLetterStore
from events.identity import IdentifierHasher
from events.intake import Intake
from events.keys.memory import MemoryKeyStore
from events.log.sqlite import SqliteEventLog
from events.personal import PersonalVault
from projections.clickhouse import ViewStore
from projections.projector import ProjectionStats, Projector
from projections.views import ChannelView, JourneyView, SceneView, standard_folds
from schemas.serde import TouchpointSerde
from services.ingest.mapping import load_mapping
from services.ingest.pipeline import IngestPipeline, IngestSummary
from services.ingest.submission import read_csv
from tests.integration.test_311_connectors import FILES, FIXED_NOW, _require

#: Rows and touchpoints of each export (see test_311_connectors): the rows rejected as
#: "closed before created" yield nothing, every other row its request and, if closed, a closure.
EXPECTED = {"nyc311": (4_999, 9_449), "la311": (9_999, 19_969)}


@dataclass
class Projected:
    name: str
    ingest: IngestSummary
    stats: ProjectionStats
    store: ViewStore

    @property
    def touchpoints(self) -> int:
        return self.ingest.touchpoints_appended

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """``sql`` with ``{journey}`` and ``{scenes}`` naming this city's tables."""
        return self.store.rows(
            sql.format(journey=self.store.table("journey"), scenes=self.store.table("scenes"))
        )


def _ingest(name: str, tmp: Path, log: SqliteEventLog) -> IngestSummary:
    path = _require(FILES[name])
    intake = Intake(IdentifierHasher(b"x" * 16), PersonalVault(MemoryKeyStore()), lambda: FIXED_NOW)
    dead = SqliteDeadLetterStore(tmp / "deadletter.sqlite")
    try:
        pipeline = IngestPipeline(
            intake, TouchpointSerde(), log, dead, batch_size=2000, clock=lambda: FIXED_NOW
        )
        with path.open(encoding="utf-8", newline="") as handle:
            summary = pipeline.run(read_csv(handle, path.name, load_mapping(name)))
    finally:
        dead.close()
    assert summary.balanced
    return summary


@pytest.fixture(scope="module", params=sorted(FILES))
def city(
    request: pytest.FixtureRequest,
    chdb_client: Client,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Projected]:
    name: str = request.param
    tmp = tmp_path_factory.mktemp(name)
    store = ViewStore(chdb_client, f"test_311_{name}_{uuid.uuid4().hex[:12]}")
    store.ensure()
    try:
        with SqliteEventLog(tmp / "log.sqlite", partitions=4) as log:
            summary = _ingest(name, tmp, log)
            stats = Projector(log, store, folds=standard_folds(store)).run_once()
        yield Projected(name, summary, stats, store)
    finally:
        store.drop()


def test_every_touchpoint_ingested_is_projected(city: Projected) -> None:
    rows, touchpoints = EXPECTED[city.name]
    assert city.ingest.submitted == rows
    assert city.touchpoints == touchpoints
    assert city.stats.undecodable == ()
    assert city.stats.events == touchpoints
    assert JourneyView(city.store).count() == touchpoints


def test_every_touchpoint_is_in_exactly_one_episode(city: Projected) -> None:
    n = JourneyView(city.store).count()

    assert SceneView(city.store).membership() == (n, n) == (city.touchpoints, city.touchpoints)
    ((unplaced,),) = city.rows(
        "SELECT count() FROM {journey} FINAL WHERE toString(event_id) NOT IN "
        "(SELECT arrayJoin(event_ids) FROM {scenes} FINAL)"
    )
    assert unplaced == 0


def test_every_case_maps_to_exactly_one_episode(city: Projected) -> None:
    ((cases, episodes, without_case, split),) = city.rows(
        "SELECT uniqExact(case_id), count(), countIf(case_id IS NULL), "
        "count() - uniqExact(case_id) FROM {scenes} FINAL"
    )
    # Every mapped row is one case, and every row is a case of its own.
    assert cases == episodes == city.ingest.accepted
    assert (without_case, split) == (0, 0)
    ((journey_cases, strays),) = city.rows(
        "SELECT uniqExact(j.case_id), countIf(j.case_id != s.case_id) "
        "FROM (SELECT toString(event_id) AS event, case_id FROM {journey} FINAL) AS j "
        "INNER JOIN (SELECT arrayJoin(event_ids) AS event, case_id FROM {scenes} FINAL) AS s "
        "USING (event)"
    )
    assert journey_cases == cases
    assert strays == 0, "a touchpoint sits in the episode of another case"


def test_the_channel_table_is_built(city: Projected) -> None:
    totals = ChannelView(city.store).totals()
    scenes = SceneView(city.store).totals()

    assert totals
    assert sum(row["volume"] for row in totals) == city.touchpoints
    assert sum(row["inbound"] for row in totals) == city.ingest.accepted  # one request per row
    assert sum(row["episodes"] for row in totals) == scenes["episodes"]
    assert sum(row["resolved_episodes"] for row in totals) == scenes["resolved"]
    assert {"phone", "web", "app"} <= {row["channel"] for row in totals}


def test_first_contact_resolution_figures_are_fractions(city: Projected) -> None:
    totals = SceneView(city.store).totals()
    channels = ChannelView(city.store).totals()

    assert 0 <= totals["first_contact_resolved"] <= totals["fcr_eligible"] <= totals["resolved"]
    assert totals["resolved"] + totals["open"] <= totals["episodes"]
    assert totals["fcr_rate"] is not None and 0.0 <= totals["fcr_rate"] <= 1.0
    assert totals["unmatched_promises"] == 0  # 311 exports record no promises
    for row in channels:
        assert row["fcr_rate"] is None or 0.0 <= row["fcr_rate"] <= 1.0, row["channel"]
    _report(city, totals, channels)


def _report(city: Projected, totals: dict[str, Any], channels: list[dict[str, Any]]) -> None:
    """The city's channel mix and FCR figures (visible with ``pytest -s``)."""
    requests = city.rows(
        "SELECT channel, count() FROM {journey} FINAL WHERE direction = 'inbound' "
        "GROUP BY channel ORDER BY count() DESC, channel"
    )
    print(f"\n== {city.name}: {city.ingest.submitted} rows -> {city.touchpoints} touchpoints")
    print("requests by channel: " + ", ".join(f"{c} {n}" for c, n in requests))
    print(
        f"episodes {totals['episodes']}, open {totals['open']}, resolved {totals['resolved']}, "
        f"FCR {totals['first_contact_resolved']}/{totals['fcr_eligible']} = "
        f"{totals['fcr_rate']:.4f}, unmatched promises {totals['unmatched_promises']}, "
        f"mean time to resolution {totals['mean_time_to_resolution_hours']:.1f} h"
    )
    ((closure_first, on_other, verdictless),) = city.rows(
        "SELECT count(), countIf(entry_channel = 'other'), "
        "countIf(first_contact_resolution IS NULL) FROM {scenes} FINAL "
        "WHERE event_ids[1] IN (SELECT toString(event_id) FROM {journey} FINAL "
        "WHERE kind = 'case_closed')"
    )
    print(
        f"episodes whose closure sorts before their request (same instant, ties by event id): "
        f"{closure_first}, {on_other} entered on 'other', {verdictless} without an FCR verdict"
    )
    header = ("channel", "volume", "in", "out", "episodes", "resolved", "fcr", "eligible", "rate")
    print("{:<8} {:>7} {:>6} {:>6} {:>8} {:>8} {:>6} {:>8} {:>6}".format(*header))
    for row in channels:
        rate = "-" if row["fcr_rate"] is None else f"{row['fcr_rate']:.3f}"
        print(
            f"{row['channel']:<8} {row['volume']:>7} {row['inbound']:>6} {row['outbound']:>6} "
            f"{row['episodes']:>8} {row['resolved_episodes']:>8} {row['fcr_episodes']:>6} "
            f"{row['fcr_eligible']:>8} {rate:>6}"
        )
