"""The risk engine runtime over the projector's output, on the real ClickHouse engine.

What must hold: the decisions applied equal the pure rules over every customer's whole history
(whatever the batch size, across restarts), decisions that fall due as stream time passes are
emitted once it passes, and a late arrival that undoes a decision withdraws it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from itertools import islice

import pytest

from events.identity import IdentifierHasher
from events.intake import Intake
from events.keys.memory import MemoryKeyStore
from events.log import Entry, EventLog
from events.log.memory import MemoryEventLog
from events.personal import PersonalVault
from events.touchpoint import Touchpoint
from projections.clickhouse import ViewStore
from projections.facts import in_event_time_order
from projections.policy import ProjectionConfig
from projections.projector import Projector
from projections.risk import RuleSet, assess
from projections.views import JourneyView, standard_folds
from schemas.serde import TouchpointSerde
from services.decisions import DecisionsApp
from services.decisions.engine import RiskEngine
from services.generate import generate
from tests.factories import BASE_TIME, make_touchpoint

SERDE = TouchpointSerde()
CONFIG = ProjectionConfig()
RULES = RuleSet()


def generated(customers: int = 60, days: int = 40, seed: int = 11) -> list[Touchpoint]:
    intake = Intake(
        IdentifierHasher(b"p" * 16),
        PersonalVault(MemoryKeyStore()),
        lambda: BASE_TIME,
    )
    return [intake.touchpoint(record) for record in generate(customers, days, seed)]


def append(log: EventLog, touchpoints: Iterable[Touchpoint]) -> None:
    log.append([Entry(str(tp.event_id), tp.customer_id, SERDE.encode(tp)) for tp in touchpoints])


class Pipeline:
    """Projector + risk engine on one store, the way ``servicetrace project`` runs them."""

    def __init__(self, log: EventLog, store: ViewStore, app: DecisionsApp, batch: int) -> None:
        self.projector = Projector(log, store, folds=standard_folds(store), batch_size=batch)
        self.engine = RiskEngine(
            self.projector.journey,
            self.projector.positions,
            app,
            RULES,
            CONFIG,
            partitions=log.partitions,
            batch_size=batch,
        )

    def run(self) -> None:
        self.projector.run_once()
        self.engine.run_once()


def expected(store: ViewStore, stream_time: int) -> set[str]:
    """The pure rules over every customer's whole history at ``stream_time``."""
    journey = JourneyView(store)
    histories: dict[str, list] = {}
    for fact in journey.facts_of([c for c, _ in journey.customers(limit=100_000)]):
        histories.setdefault(fact.customer_id, []).append(fact)
    ids = set()
    for facts in histories.values():
        for decision in assess(in_event_time_order(facts), RULES, CONFIG, stream_time).decisions:
            ids.add(decision.decision_id)
    return ids


def applied(app: DecisionsApp, store: ViewStore) -> set[str]:
    customers = [c for c, _ in JourneyView(store).customers(limit=100_000)]
    return set().union(*app.decision_ids(customers).values())


@pytest.fixture(scope="module")
def touchpoints() -> list[Touchpoint]:
    return generated()


def test_decisions_equal_the_pure_rules_whatever_the_batch_size(
    view_store: ViewStore, touchpoints: list[Touchpoint]
) -> None:
    log = MemoryEventLog(partitions=3)
    append(log, touchpoints)
    app = DecisionsApp("memory:")
    pipeline = Pipeline(log, view_store, app, batch=400)
    pipeline.run()
    got = applied(app, view_store)
    want = expected(view_store, pipeline.engine.stream_time)
    assert got == want
    rules = {row.rule_id for row in app.alerts()}
    assert {"repeat_request", "sla_overdue", "agent_warning"} <= rules, rules

    # One big batch into a fresh store gives the same decision ids.
    again = DecisionsApp("memory:")
    engine = RiskEngine(
        pipeline.projector.journey,
        pipeline.projector.positions,
        again,
        RULES,
        CONFIG,
        partitions=3,
        name="risk-big-batches",
        batch_size=100_000,
    )
    engine.run_once()
    assert applied(again, view_store) == got


def test_a_restart_resumes_and_ends_with_the_same_decisions(
    view_store: ViewStore, touchpoints: list[Touchpoint]
) -> None:
    log = MemoryEventLog(partitions=3)
    app = DecisionsApp("memory:")
    chunks = iter(touchpoints)
    first = Pipeline(log, view_store, app, batch=300)
    append(log, islice(chunks, len(touchpoints) // 2))
    first.run()
    before = app.recorder.max_notification_id()
    # A new process: fresh engine state (no cache, no due heap), same stores.
    second = Pipeline(log, view_store, app, batch=300)
    append(log, chunks)
    second.run()
    assert app.recorder.max_notification_id() > before
    assert applied(app, view_store) == expected(view_store, second.engine.stream_time)
    # Running again changes nothing: every decision is already applied.
    settled = app.recorder.max_notification_id()
    second.run()
    Pipeline(log, view_store, app, batch=300).run()
    assert app.recorder.max_notification_id() == settled


def _complaint(minutes: float, customer: str = "C1", **kw: object) -> Touchpoint:
    return make_touchpoint(customer, "complaint", "phone", minutes=minutes, **kw)


def test_an_sla_deadline_falls_due_when_the_stream_passes_it_even_after_a_restart(
    view_store: ViewStore,
) -> None:
    log = MemoryEventLog(partitions=2)
    app = DecisionsApp("memory:")
    append(log, [_complaint(0)])
    Pipeline(log, view_store, app, batch=100).run()
    assert not [r for r in app.alerts() if r.rule_id == "sla_overdue"]

    # Another customer's touchpoint 47 hours later: not due yet.
    append(log, [make_touchpoint("C2", "inquiry", "web", minutes=47 * 60)])
    Pipeline(log, view_store, app, batch=100).run()
    assert not [r for r in app.alerts() if r.rule_id == "sla_overdue"]

    # A fresh engine (restart) and a touchpoint recorded after the deadline: now it is.
    append(log, [make_touchpoint("C3", "inquiry", "web", minutes=49 * 60)])
    Pipeline(log, view_store, app, batch=100).run()
    overdue = [r for r in app.alerts() if r.rule_id == "sla_overdue"]
    assert [r.customer_id for r in overdue] == ["C1"]
    deadline = BASE_TIME + timedelta(hours=48)
    assert overdue[0].at == int(deadline.timestamp() * 1_000_000)


def test_a_resolution_reported_late_withdraws_the_overdue_alert(view_store: ViewStore) -> None:
    log = MemoryEventLog(partitions=2)
    app = DecisionsApp("memory:")
    pipeline = Pipeline(log, view_store, app, batch=100)
    append(log, [_complaint(0, case_id="K1")])
    append(log, [make_touchpoint("C2", "inquiry", "web", minutes=50 * 60)])
    pipeline.run()
    (overdue,) = [r for r in app.alerts() if r.rule_id == "sla_overdue"]
    assert overdue.status == "open"

    # The case was resolved after 20 hours, but the record arrives three days late.
    late = make_touchpoint(
        "C1",
        "case_resolved",
        "web",
        minutes=20 * 60,
        case_id="K1",
        recorded_at=BASE_TIME + timedelta(hours=72),
    )
    append(log, [late])
    pipeline.run()
    (withdrawn,) = [r for r in app.alerts() if r.rule_id == "sla_overdue"]
    assert withdrawn.alert_id == overdue.alert_id
    assert withdrawn.status == "withdrawn"
    assert app.alert(overdue.alert_id).history[-1]["by"] == "risk engine"


def test_a_withdrawn_alert_is_reinstated_when_it_holds_again(view_store: ViewStore) -> None:
    """A withdrawn decision that the rules find again (the history changed back) is
    reinstated, not lost: here it is withdrawn by hand, and a restarted engine, which refolds
    the customers whose decisions may still change, finds that it holds."""
    log = MemoryEventLog(partitions=2)
    app = DecisionsApp("memory:")
    pipeline = Pipeline(log, view_store, app, batch=100)
    append(log, [_complaint(0, case_id="K1")])
    append(log, [make_touchpoint("C2", "inquiry", "web", minutes=50 * 60)])
    pipeline.run()
    (overdue,) = [r for r in app.alerts() if r.rule_id == "sla_overdue"]
    app.withdraw([("C1", overdue.alert_id)], "test: taken back")
    assert app.alert(overdue.alert_id).status == "withdrawn"
    assert overdue.alert_id not in app.decision_ids(["C1"])["C1"]

    # The engine (a fresh process: cold load of the stored keys) finds it holds: reinstated.
    Pipeline(log, view_store, app, batch=100).run()
    append(log, [make_touchpoint("C3", "inquiry", "web", minutes=51 * 60)])
    Pipeline(log, view_store, app, batch=100).run()
    reinstated = app.alert(overdue.alert_id)
    assert reinstated.status == "open"
    assert reinstated.history[-1]["reason"].startswith("holds again")
    assert overdue.alert_id in app.decision_ids(["C1"])["C1"]
