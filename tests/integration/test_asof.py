"""As-of reconstruction over real touchpoints: the log, the projector, chdb and the risk engine.

A customer complains (case K1) on Monday; a second complaint made on Tuesday and the case's
resolution on Tuesday reach the organisation only on Thursday. At T (Wednesday afternoon) the
organisation knew one complaint and no resolution: the SLA alert was raised, no flag, no
warning at the Wednesday call. After Thursday both late touchpoints are known: the SLA alert no
longer holds (production withdrew it), the customer is sensitive, the Friday call warned.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import pytest

from events.keys.memory import MemoryKeyStore
from events.log import Entry, EventLog
from events.log.memory import MemoryEventLog
from events.personal import PersonalVault
from events.taxonomy import Direction
from events.touchpoint import Touchpoint
from projections.clickhouse import ViewStore
from projections.facts import in_event_time_order
from projections.policy import ProjectionConfig
from projections.projector import Projector
from projections.risk import RuleSet, assess
from projections.views import SceneView, standard_folds
from schemas.serde import TouchpointSerde
from services.asof import Sources, journey_as_of, read_history, scene_as_of
from services.decisions import DecisionsApp
from services.decisions.engine import RiskEngine
from services.moments import to_micros
from tests.factories import BASE_TIME, make_touchpoint

SERDE = TouchpointSerde()
RULES = RuleSet()
CONFIG = ProjectionConfig()
DAY = 24 * 60
#: Wednesday 13:30 local (+08:00) and the following Saturday.
T = to_micros(BASE_TIME + timedelta(days=2, hours=4))
T_LATER = to_micros(BASE_TIME + timedelta(days=5))
#: A supervisor's acknowledgement, wall-clock (before T, so it is in force at T).
ACKED_WHEN = (BASE_TIME + timedelta(days=2, hours=1)).isoformat()


def touchpoint(kind: str, minutes: float, late_days: float | None = None, **kw: Any) -> Touchpoint:
    tp = make_touchpoint("C7", kind, minutes=minutes, service_type="billing", **kw)
    if late_days is None:
        return tp
    return tp.model_copy(update={"recorded_at": BASE_TIME + timedelta(days=late_days)})


ON_TIME = [
    touchpoint("complaint", 0, case_id="K1"),
    touchpoint("inquiry", 2 * DAY + 180),  # Wednesday 12:30: the call at T
]
LATE = [
    touchpoint("complaint", DAY + 30, late_days=3, case_id="K1"),
    touchpoint("case_resolved", DAY + 120, late_days=3, case_id="K1", direction=Direction.INTERNAL),
    touchpoint("inquiry", 4 * DAY),  # Friday 09:30, once everything is known
]


def append(log: EventLog, touchpoints: Iterable[Touchpoint]) -> None:
    log.append([Entry(str(tp.event_id), tp.customer_id, SERDE.encode(tp)) for tp in touchpoints])


class Production:
    """The projector and the risk engine on one store, as ``servicetrace project`` runs them."""

    def __init__(self, store: ViewStore) -> None:
        self.log = MemoryEventLog(partitions=2)
        self.projector = Projector(self.log, store, folds=standard_folds(store), batch_size=50)
        self.app = DecisionsApp("memory:", clock=lambda: ACKED_WHEN)
        self.engine = RiskEngine(
            self.projector.journey, self.projector.positions, self.app, RULES, CONFIG, partitions=2
        )
        self.sources = Sources(
            self.projector.journey, PersonalVault(MemoryKeyStore()), RULES, CONFIG, self.app
        )

    def receive(self, touchpoints: Iterable[Touchpoint]) -> None:
        append(self.log, touchpoints)
        self.projector.run_once()
        self.engine.run_once()

    def decided(self) -> set[str]:
        return self.app.decision_ids(["C7"]).get("C7", set())


def ids(data: dict[str, Any]) -> set[str]:
    risk = data["risk"]
    found = {a["decision_id"] for a in risk["alerts"]}
    found |= {w["decision_id"] for w in risk["agent_warnings"]["issued"]}
    return found | {c["decision_id"] for c in risk["flag_changes"]}


@pytest.fixture
def production(view_store: ViewStore) -> Production:
    return Production(view_store)


def test_what_was_known_at_t_and_after_the_late_arrivals(production: Production) -> None:
    production.receive(ON_TIME)
    at_t_then = production.decided()
    (sla,) = [row for row in production.app.alerts(customer_id="C7")]
    assert sla.rule_id == "sla_overdue"
    production.app.acknowledge(sla.alert_id, by="sam")
    production.receive(LATE)

    before = journey_as_of(production.sources, "C7", T)
    assert before is not None
    assert [tp["event_id"] for tp in before["known"]["touchpoints"]] == [
        str(tp.event_id) for tp in ON_TIME
    ]
    late = {tp["event_id"]: tp for tp in before["late_arrivals"]}
    assert set(late) == {str(tp.event_id) for tp in LATE[:2]}
    assert all(tp["known_at_as_of"] is False and tp["late_by_hours"] > 24 for tp in late.values())
    risk = before["risk"]
    assert risk["sensitive"] == []
    assert risk["agent_warnings"]["latest_contact"]["event_id"] == str(ON_TIME[1].event_id)
    assert risk["agent_warnings"]["shown_at_latest_contact"] is None
    (alert,) = risk["alerts"]
    assert alert["rule_id"] == "sla_overdue" and alert["decision_id"] == sla.alert_id
    # Production's workflow: acknowledged (wall clock before T), withdrawn since (untimed).
    assert alert["production"]["status_at_as_of"] == "acknowledged"
    assert alert["production"]["status_now"] == "withdrawn"
    # The recomputation at T has exactly the ids production decided with what it knew by T.
    assert ids(before) == at_t_then

    after = journey_as_of(production.sources, "C7", T_LATER)
    assert after is not None and after["late_arrivals"] == []
    assert len(after["known"]["touchpoints"]) == len(ON_TIME) + len(LATE)
    (flag,) = after["risk"]["sensitive"]
    assert flag["triggers"] == [str(ON_TIME[0].event_id), str(LATE[0].event_id)]
    assert flag["service_type"] == "billing"
    shown = after["risk"]["agent_warnings"]["shown_at_latest_contact"]
    assert shown is not None and shown["triggers"][0] == str(LATE[2].event_id)
    assert shown["production"]["status_now"] == "open"
    # The SLA alert no longer holds (the repeat-request alert the four contacts make does).
    assert [a["rule_id"] for a in after["risk"]["alerts"]] == ["repeat_request"]
    assert ids(after) == production.decided()


def test_history_facts_equal_the_journey_views_facts(production: Production) -> None:
    production.receive([*ON_TIME, *LATE])
    journey = production.projector.journey
    history = read_history(journey, "C7")
    assert list(history.facts) == in_event_time_order(journey.facts_of(["C7"]))
    entries = history.entries_of(history.facts)
    assert [str(e.event_id) for e in entries] == [f.event_id for f in history.facts]
    assert [e.kind.value for e in entries] == [f.kind for f in history.facts]
    bounded = read_history(journey, "C7", T)
    assert [f.event_id for f in bounded.facts] == [
        f.event_id for f in history.facts if f.occurred <= T
    ]
    stream = journey.latest_recorded()
    decided = assess(list(history.facts), RULES, CONFIG, stream).decisions
    assert {d.decision_id for d in decided} == production.decided()


def test_scene_as_of_shows_the_episode_as_it_stood(
    production: Production, view_store: ViewStore
) -> None:
    production.receive([*ON_TIME, *LATE])
    today = next(
        row
        for row in SceneView(view_store).for_customer("C7")
        if str(ON_TIME[0].event_id) in row["event_ids"]
    )
    assert str(LATE[1].event_id) in today["event_ids"]

    then = scene_as_of(production.sources, today, T)
    assert then["existed"] is True
    (scene,) = then["scenes"]
    assert scene["episode_id"] == today["episode_id"]
    assert str(LATE[1].event_id) not in scene["event_ids"]
    assert scene["status"] == "open" and today["status"] != "open"
    assert {tp["event_id"] for tp in then["late_arrivals"]} <= {str(tp.event_id) for tp in LATE[:2]}
    assert [tp["event_id"] for tp in scene["touchpoints_detail"]] == scene["event_ids"]

    never = scene_as_of(production.sources, today, to_micros(BASE_TIME - timedelta(days=1)))
    assert never["existed"] is False and never["scenes"] == []
    assert "did not exist yet" in never["note"]
