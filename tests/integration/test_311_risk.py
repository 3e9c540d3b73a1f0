"""The risk rules over the real NYC and LA 311 exports, and NYC's repeats against its own labels.

Each city is ingested and projected as in ``test_311_projections`` (CSV mapping -> intake ->
Avro -> SQLite log -> projector -> the session's embedded ClickHouse); every customer's facts
are read back from the journey view in event-time order and assessed by
:func:`projections.risk.assess` at the stream time the view reached.

NYC closes a request that repeats an earlier one with a resolution text saying so; the
``repeat_request`` alerts are scored against those requests (phrases and the definitions of
``alerted``, ``covered`` and ``ceiling`` in :mod:`projections.risk.evaluation`). The floors
below sit a little under the figures measured on these files, so a change in the rules, the
mappings or the projection that loses repeats fails here. Run with ``-s`` to see the figures
(``bench/risk_311.py`` prints them as JSON).

Like ``test_311_connectors``: without the files the tests skip locally and fail under
``CI=true``.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from clickhouse_connect.driver.client import Client

from events.identity import source_event_id
from events.log.sqlite import SqliteEventLog
from projections.clickhouse import ViewStore
from projections.facts import HOUR_US, Fact, in_event_time_order, order_key
from projections.policy import ProjectionConfig
from projections.projector import Projector
from projections.risk import Decision, RuleSet, assess
from projections.risk.config import RepeatRequestRule
from projections.risk.evaluation import (
    DUPLICATE_PHRASES,
    Score,
    alerted_repeats,
    covered_repeats,
    duplicate_requests,
    repeat_scores,
    repeats_within_window,
    rule_counts,
    says_duplicate,
)
from projections.views import JourneyView
from tests.integration.test_311_connectors import FILES, _rows
from tests.integration.test_311_projections import EXPECTED, _ingest

CONFIG = ProjectionConfig()
RULES = RuleSet()
CITIES = sorted(FILES)

#: Floors under the NYC figures measured on the export (threshold -> definition -> (precision,
#: recall)); measured: 3 alerted 0.160 / 0.152, covered 0.207 / 0.322; 2 alerted 0.152 / 0.239,
#: covered 0.182 / 0.483 (348 labelled duplicates among 4,997 requests).
FLOORS = {
    3: {"alerted": (0.12, 0.12), "covered": (0.16, 0.27)},
    2: {"alerted": (0.12, 0.20), "covered": (0.14, 0.42)},
}
#: A request NYC labels a duplicate is ~7% of all; the alerts must beat picking at random by
#: this factor (measured: 2.2-3.0).
MIN_LIFT = 1.5


@dataclass
class City:
    name: str
    store: ViewStore
    #: Customer -> facts in event-time order.
    histories: dict[str, list[Fact]]
    stream_time: int
    decisions: list[Decision]

    @property
    def facts(self) -> list[Fact]:
        return [fact for history in self.histories.values() for fact in history]

    @property
    def requests(self) -> set[str]:
        return {fact.event_id for fact in self.facts if fact.direction == "inbound"}


def _histories(store: ViewStore, reverse: bool = False) -> dict[str, list[Fact]]:
    """Every customer's facts read back from the journey view, in event-time order."""
    journey = JourneyView(store)
    customers = [
        str(row[0]) for row in store.rows(f"SELECT DISTINCT customer_id FROM {journey.table}")
    ]
    grouped: dict[str, list[Fact]] = {}
    for fact in journey.facts_of(sorted(customers, reverse=reverse)):
        grouped.setdefault(fact.customer_id, []).append(fact)
    return {c: in_event_time_order(grouped[c]) for c in sorted(grouped, reverse=reverse)}


def _decide(histories: dict[str, list[Fact]], rules: RuleSet, stream_time: int) -> list[Decision]:
    return [
        decision
        for history in histories.values()
        for decision in assess(history, rules, CONFIG, stream_time).decisions
    ]


@pytest.fixture(scope="module")
def cities(
    chdb_client: Client, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, City]]:
    built: dict[str, City] = {}
    try:
        for name in CITIES:
            tmp = tmp_path_factory.mktemp(f"risk_{name}")
            store = ViewStore(chdb_client, f"test_311_risk_{name}_{uuid.uuid4().hex[:12]}")
            store.ensure()
            built[name] = City(name, store, {}, 0, [])
            with SqliteEventLog(tmp / "log.sqlite", partitions=4) as log:
                _ingest(name, tmp, log)
                Projector(log, store).run_once()
            city = built[name]
            city.histories = _histories(store)
            city.stream_time = JourneyView(store).latest_recorded()
            city.decisions = _decide(city.histories, RULES, city.stream_time)
        yield built
    finally:
        for city in built.values():
            city.store.drop()


@pytest.mark.parametrize("name", CITIES)
def test_the_rules_run_over_every_touchpoint(cities: dict[str, City], name: str) -> None:
    city = cities[name]
    counts = rule_counts(city.decisions)
    print(f"\n== {name}: {len(city.facts)} touchpoints, {len(city.histories)} customers")
    print("decisions: " + ", ".join(f"{rule} {n}" for rule, n in counts.items()))

    assert len(city.facts) == EXPECTED[name][1]
    assert counts.get("repeat_request", 0) > 0
    assert all(decision.due <= city.stream_time for decision in city.decisions)
    ids = [decision.decision_id for decision in city.decisions]
    assert len(ids) == len(set(ids)), "two decisions share an id"


@pytest.mark.parametrize("name", CITIES)
def test_every_trigger_is_a_touchpoint_of_its_customer(cities: dict[str, City], name: str) -> None:
    city = cities[name]
    rule = RULES.repeat_request
    kinds = {kind.value for kind in rule.kinds}
    for decision in city.decisions:
        history = city.histories[decision.customer_id]
        position = {fact.event_id: index for index, fact in enumerate(history)}
        assert decision.triggers, decision
        assert set(decision.triggers) <= set(position), decision
        if decision.rule_id != "repeat_request":
            continue
        triggers = [history[position[t]] for t in decision.triggers]
        assert [position[t] for t in decision.triggers] == sorted(
            position[t] for t in decision.triggers
        )
        assert len(triggers) >= rule.threshold
        assert triggers[-1].occurred == decision.at
        assert triggers[-1].occurred - triggers[0].occurred <= rule.window_hours * HOUR_US
        for fact in triggers:
            assert (fact.direction, fact.service_type) == ("inbound", decision.service_type)
            assert fact.kind in kinds


@pytest.mark.parametrize("name", CITIES)
def test_decision_ids_are_the_same_on_a_second_assessment(
    cities: dict[str, City], name: str
) -> None:
    city = cities[name]
    # Read the view again, customers the other way round and each history shuffled first: the
    # event-time order, not the order of reading, decides.
    again = _histories(city.store, reverse=True)
    shuffler = random.Random(7)
    for customer, history in again.items():
        shuffled = list(history)
        shuffler.shuffle(shuffled)
        again[customer] = in_event_time_order(shuffled)
    second = _decide(again, RULES, city.stream_time)

    def key(decision: Decision) -> tuple[int, str]:
        return decision.at, decision.decision_id

    assert sorted(second, key=key) == sorted(city.decisions, key=key)


def _labelled_duplicates() -> tuple[frozenset[str], frozenset[str]]:
    """From the raw NYC export: the requests whose resolution text says they duplicate an
    earlier one, and those of them whose row has no close date (so no closure to carry it)."""
    labelled: list[tuple[str, str]] = []
    open_rows: set[str] = set()
    for _, row in _rows("nyc311"):
        request = source_event_id("nyc311", f"{row['Unique Key']}:request")
        labelled.append((request, row["Resolution Description"]))
        if not row["Closed Date"].strip():
            open_rows.add(request)
    duplicates = duplicate_requests(labelled)
    return duplicates, duplicates & open_rows


def test_the_duplicate_labels_are_found_in_the_export_and_the_journey(
    cities: dict[str, City],
) -> None:
    city = cities["nyc311"]
    labelled, without_closure = _labelled_duplicates()
    table = JourneyView(city.store).table
    closures = city.store.rows(
        f"SELECT parent_event_id, text FROM {table} FINAL WHERE kind = 'case_closed'"
    )
    in_journey = duplicate_requests((parent, text) for parent, text in closures)
    print(f"\n== nyc311: {len(labelled)} requests labelled duplicates by: {DUPLICATE_PHRASES}")
    print(f"{len(in_journey)} of them with the label on their closure in the journey")

    assert labelled <= city.requests
    assert len(labelled) > 0.05 * len(city.requests)
    # A label is lost only when the row has no close date, hence no closure to carry the text.
    assert in_journey == labelled - without_closure
    assert says_duplicate(
        "The Department  of Sanitation found an OPEN service request already\n"
        "exists for the same location."
    )
    assert not says_duplicate("Violations were previously issued for these conditions.")


def _print_score(threshold: int, name: str, found: Score) -> None:
    print(
        f"threshold {threshold} {name:<8} predicted {found.predicted:>4}, "
        f"true {found.true_positives:>3} of {found.actual}: "
        f"precision {found.precision or 0:.3f}, recall {found.recall or 0:.3f}"
    )


@pytest.mark.parametrize("threshold", sorted(FLOORS, reverse=True))
def test_nyc_repeats_find_the_requests_nyc_closed_as_duplicates(
    cities: dict[str, City], threshold: int
) -> None:
    city = cities["nyc311"]
    facts = city.facts
    actual, _ = _labelled_duplicates()
    rule = RepeatRequestRule(threshold=threshold)
    decisions = _decide(city.histories, RuleSet(repeat_request=rule), city.stream_time)
    alerts = [d for d in decisions if d.rule_id == "repeat_request"]
    alerted = alerted_repeats(alerts)
    covered = covered_repeats(alerts, facts, rule)
    ceiling = repeats_within_window(facts, rule)
    scores = repeat_scores(alerts, facts, rule, actual)
    print(f"\n== nyc311 repeat_request, threshold {threshold}: {len(alerts)} alerts")
    for name, found in scores.items():
        _print_score(threshold, name, found)

    assert alerts
    assert alerted <= covered <= ceiling <= city.requests
    base_rate = len(actual) / len(city.requests)
    most = scores["ceiling"].recall
    assert most is not None
    for name, (precision, recall) in FLOORS[threshold].items():
        found = scores[name]
        assert found.precision is not None and found.recall is not None
        assert found.precision >= precision, (name, found)
        assert found.recall >= recall, (name, found)
        assert found.precision >= MIN_LIFT * base_rate, (name, found)
        assert found.recall <= most
    # The export's requests span half a day, less than a window: a rule firing on the second
    # request covers every request with an earlier one.
    made = [f.occurred for f in facts if f.direction == "inbound"]
    assert max(made) - min(made) <= rule.window_hours * HOUR_US
    if threshold == 2:
        assert covered == ceiling


def test_covered_requests_follow_their_alert(cities: dict[str, City]) -> None:
    """Every request ``covered`` adds follows a repeat alert of its customer and service type
    within one window, in event-time order."""
    city = cities["nyc311"]
    rule = RULES.repeat_request
    alerts = [d for d in city.decisions if d.rule_id == "repeat_request"]
    by_id = {fact.event_id: fact for fact in city.facts}
    added = covered_repeats(alerts, city.facts, rule) - alerted_repeats(alerts)
    assert added
    for request in added:
        fact = by_id[request]
        assert any(
            alert.customer_id == fact.customer_id
            and alert.service_type == fact.service_type
            and order_key(by_id[alert.triggers[-1]]) < order_key(fact)
            and fact.occurred - alert.at <= rule.window_hours * HOUR_US
            for alert in alerts
        ), request
