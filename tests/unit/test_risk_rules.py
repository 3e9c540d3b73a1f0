"""Risk rules: pure decisions over one customer's event-time history, and ``FoldRunner(also=)``.

Times: :data:`~tests.factories.FOLD_EPOCH_US` is Monday 2026-01-05 00:00 UTC; ``at(day, hour)``
counts from it in UTC. Facts default to service type ``billing`` and customer ``C1``, and are
recorded when they occur unless a test says otherwise (``late``).
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.identity import IdentifierHasher
from events.intake import Intake
from events.keys.memory import MemoryKeyStore
from events.personal import PersonalVault
from events.taxonomy import Kind
from projections.compliance import DND_WINDOW, SILENCE_REAL_TIME
from projections.facts import DAY_US, HOUR_US, MINUTE_US, Fact, in_event_time_order
from projections.folding import FoldRunner
from projections.policy import ProjectionConfig
from projections.risk import (
    Assessment,
    Decision,
    RuleSet,
    assess,
    decision_id,
    evaluate,
    evaluate_all,
)
from projections.risk.config import (
    AgentWarningRule,
    ChannelHoppingRule,
    DndViolationRule,
    RepeatRequestRule,
    SensitiveCustomerRule,
    SlaOverdueRule,
)
from projections.risk.decisions import ALERT, FLAG_EXPIRED, FLAG_RAISED, FLAG_RENEWED, SENSITIVE
from projections.risk.rules import sensitive_periods
from projections.scenes import episode_id, scenes_of
from services.generate import generate
from tests.factories import BASE_TIME, FOLD_EPOCH_US, arrival_histories, fact_of, make_fact

CONFIG = ProjectionConfig()
RULES = RuleSet()
#: A stream time past every decision any test history implies.
END = FOLD_EPOCH_US + 10_000 * DAY_US


def at(day: float, hour: float = 0) -> int:
    """UTC microseconds ``day`` days (and ``hour`` hours) after the epoch Monday."""
    return FOLD_EPOCH_US + round(day * DAY_US + hour * HOUR_US)


def fact(event_id: str, occurred: int, kind: str = "inquiry", *args: str, **fields: Any) -> Fact:
    """A fact at ``occurred``; see :func:`tests.factories.make_fact`."""
    return make_fact(event_id, occurred, kind, *args, **fields)


def late(item: Fact, recorded: int) -> Fact:
    """``item`` as recorded (learned of) at ``recorded``."""
    return item._replace(recorded=recorded)


def decide(
    facts: Iterable[Fact],
    rules: RuleSet = RULES,
    stream_time: int = END,
    config: ProjectionConfig = CONFIG,
) -> Assessment:
    return assess(in_event_time_order(facts), rules, config, stream_time)


def of(rule_id: str, facts: Iterable[Fact], rules: RuleSet = RULES) -> list[Decision]:
    """Every decision of ``rule_id`` on ``facts`` (due by :data:`END`)."""
    return [d for d in decide(facts, rules).decisions if d.rule_id == rule_id]


def only(rule_id: str, facts: Iterable[Fact], rules: RuleSet = RULES) -> Decision:
    found = of(rule_id, facts, rules)
    assert len(found) == 1, found
    return found[0]


# -- repeat_request ----------------------------------------------------------------------------


def test_three_requests_within_a_week_raise_one_alert_at_the_third() -> None:
    facts = [
        fact("r1", at(0, 10), "inquiry"),
        fact("r2", at(2, 10), "service_request", "email"),
        fact("r3", at(6, 10), "complaint", "chat"),
    ]

    alert = only("repeat_request", facts)

    assert alert.triggers == ("r1", "r2", "r3")
    assert alert.at == at(6, 10)
    assert alert.due == at(6, 10)
    assert alert.action == ALERT
    assert alert.is_alert
    assert alert.flag is None
    assert alert.customer_id == "C1"
    assert alert.service_type == "billing"
    assert alert.severity == "warning"
    assert alert.rule_version == 1
    assert alert.decision_id == decision_id("repeat_request", 1, "C1", "r3")
    assert alert.summary.startswith("3 requests on billing within")


def test_reports_count_as_requests() -> None:
    facts = [fact(f"r{i}", at(i, 10), "report") for i in range(3)]

    assert only("repeat_request", facts).triggers == ("r0", "r1", "r2")


def test_repeat_request_window_is_inclusive() -> None:
    exactly = [fact("r1", at(0)), fact("r2", at(3)), fact("r3", at(7))]
    beyond = [fact("r1", at(0)), fact("r2", at(3)), fact("r3", at(7) + 1)]

    assert only("repeat_request", exactly).triggers == ("r1", "r2", "r3")
    assert of("repeat_request", beyond) == []


def test_three_requests_spread_over_more_than_a_week_raise_nothing() -> None:
    facts = [fact("r1", at(0)), fact("r2", at(4)), fact("r3", at(8))]

    assert of("repeat_request", facts) == []


def test_requests_on_different_service_types_do_not_add_up() -> None:
    facts = [
        fact("r1", at(0)),
        fact("r2", at(1)),
        fact("r3", at(2), service_type="outage"),
        fact("r4", at(3), service_type="meter"),
    ]

    assert of("repeat_request", facts) == []


def test_each_service_type_counts_on_its_own() -> None:
    facts = [fact(f"b{i}", at(i)) for i in range(3)] + [
        fact(f"o{i}", at(i, 1), service_type="outage") for i in range(3)
    ]

    alerts = of("repeat_request", facts)

    assert sorted((a.service_type, a.triggers) for a in alerts) == [
        ("billing", ("b0", "b1", "b2")),
        ("outage", ("o0", "o1", "o2")),
    ]


def test_outbound_facts_do_not_count_as_requests() -> None:
    facts = [
        fact("r1", at(0, 10)),
        fact("r2", at(1, 10)),
        fact("o1", at(2, 10), "inquiry", direction="outbound", actor_type="agent"),
        fact("h1", at(3, 10), "contact_handled"),
        fact("c1", at(4, 10), "callback"),
    ]

    assert of("repeat_request", facts) == []


def test_other_inbound_kinds_do_not_count_by_default() -> None:
    facts = [
        fact("r1", at(0)),
        fact("r2", at(1)),
        fact("f1", at(2), "feedback", score=1),
        fact("s1", at(3), "self_service", "web"),
        fact("g1", at(4), "suggestion"),
    ]

    assert of("repeat_request", facts) == []


def test_further_requests_in_the_window_make_no_new_alert_but_a_new_burst_does() -> None:
    first = [fact(f"a{i}", at(i, 10)) for i in range(5)]  # days 0-4: alert at the third
    second = [fact(f"b{i}", at(20 + i, 10)) for i in range(3)]  # days 20-22

    alerts = of("repeat_request", first + second)

    assert [(a.at, a.triggers) for a in alerts] == [
        (at(2, 10), ("a0", "a1", "a2")),
        (at(22, 10), ("b0", "b1", "b2")),
    ]


def test_daily_requests_alert_once_a_window() -> None:
    facts = [fact(f"r{i:02}", at(i, 10)) for i in range(11)]

    alerts = of("repeat_request", facts)

    # Alert at day 2; days 3-9 are within 7 days of it; day 10 is 8 days after it.
    assert [a.at for a in alerts] == [at(2, 10), at(10, 10)]
    assert alerts[1].triggers == tuple(f"r{i:02}" for i in range(3, 11))
    assert alerts[1].summary.startswith("8 requests on billing within 7.0 days")


def test_repeat_request_threshold_window_and_kinds_are_configurable() -> None:
    rules = RuleSet(
        repeat_request=RepeatRequestRule(
            version=3,
            threshold=2,
            window_hours=24,
            kinds=frozenset({Kind.INQUIRY}),
            severity="critical",
        )
    )
    two_inquiries = [fact("q1", at(0, 8)), fact("q2", at(0, 20))]
    two_complaints = [fact("c1", at(0, 8), "complaint"), fact("c2", at(0, 20), "complaint")]
    too_far = [fact("q1", at(0, 8)), fact("q2", at(1, 9))]

    alert = only("repeat_request", two_inquiries, rules)
    assert alert.triggers == ("q1", "q2")
    assert alert.rule_version == 3
    assert alert.severity == "critical"
    assert alert.decision_id == decision_id("repeat_request", 3, "C1", "q2")
    assert of("repeat_request", two_complaints, rules) == []
    assert of("repeat_request", too_far, rules) == []
    # The defaults would not alert on two inquiries.
    assert of("repeat_request", two_inquiries) == []


def test_repeat_request_alert_is_due_when_its_last_trigger_is_known() -> None:
    facts = [
        late(fact("r1", at(0)), at(5)),  # learned of after the third request
        fact("r2", at(1)),
        fact("r3", at(2)),
    ]

    alert = only("repeat_request", facts)

    assert alert.at == at(2)
    assert alert.due == at(5)
    assert decide(facts, stream_time=at(5) - 1).next_due == at(5)
    assert [d.rule_id for d in decide(facts, stream_time=at(5) - 1).decisions] == []


# -- sensitive_customer ----------------------------------------------------------------------


def flags(facts: Iterable[Fact], rules: RuleSet = RULES) -> list[tuple[str, int, tuple[str, ...]]]:
    return [(d.action, d.at, d.triggers) for d in of("sensitive_customer", facts, rules)]


def test_two_complaints_on_one_service_type_within_30_days_raise_the_flag() -> None:
    facts = [fact("c1", at(0, 10), "complaint"), fact("c2", at(29, 10), "complaint")]

    raised, expired = of("sensitive_customer", facts)

    assert raised.action == FLAG_RAISED
    assert raised.flag == SENSITIVE
    assert not raised.is_alert
    assert raised.triggers == ("c1", "c2")
    assert raised.at == raised.due == at(29, 10)
    assert raised.service_type == "billing"
    assert raised.decision_id == decision_id("sensitive_customer", 1, "C1", FLAG_RAISED, "c2")
    assert raised.reasons == (raised.summary,)
    assert "2 complaints or dissatisfied feedback on billing" in raised.summary
    assert "2026-01-05 and 2026-02-03" in raised.summary
    assert expired.action == FLAG_EXPIRED


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("feedback", 2), ("complaint", None)),
        (("feedback", 1), ("feedback", 2)),
        (("complaint", None), ("feedback", 1)),
    ],
)
def test_dissatisfied_feedback_counts_like_a_complaint(
    first: tuple[str, int | None], second: tuple[str, int | None]
) -> None:
    facts = [
        fact("n1", at(0), first[0], "web", score=first[1]),
        fact("n2", at(3), second[0], "web", score=second[1]),
    ]

    assert flags(facts)[0] == (FLAG_RAISED, at(3), ("n1", "n2"))


@pytest.mark.parametrize("score", [3, 4, 5, None])
def test_feedback_above_the_dissatisfied_score_does_not_count(score: int | None) -> None:
    facts = [fact("c1", at(0), "complaint"), fact("f1", at(3), "feedback", "web", score=score)]

    assert flags(facts) == []


def test_complaints_on_different_service_types_do_not_raise_the_flag() -> None:
    facts = [
        fact("c1", at(0), "complaint"),
        fact("c2", at(3), "complaint", service_type="outage"),
    ]

    assert flags(facts) == []


def test_complaints_more_than_30_days_apart_do_not_raise_the_flag() -> None:
    facts = [fact("c1", at(0), "complaint"), fact("c2", at(30) + 1, "complaint")]

    assert flags(facts) == []


def test_outbound_complaint_is_not_negative() -> None:
    facts = [
        fact("c1", at(0), "complaint"),
        fact("c2", at(1), "complaint", direction="outbound", actor_type="agent"),
    ]

    assert flags(facts) == []


def test_a_further_complaint_renews_the_flag_and_moves_its_expiry() -> None:
    facts = [
        fact("c1", at(0), "complaint"),
        fact("c2", at(10), "complaint"),
        fact("c3", at(40), "complaint", service_type="outage"),  # any service type renews
    ]

    found = of("sensitive_customer", facts)

    assert [(d.action, d.at, d.due, d.triggers) for d in found] == [
        (FLAG_RAISED, at(10), at(10), ("c1", "c2")),
        (FLAG_RENEWED, at(40), at(40), ("c3",)),
        (FLAG_EXPIRED, at(130), at(130), ("c3",)),
    ]
    renewed = found[1]
    assert renewed.decision_id == decision_id("sensitive_customer", 1, "C1", FLAG_RENEWED, "c3")
    assert renewed.service_type == "outage"
    assert found[2].service_type == "billing"  # the period's, from the raise
    assert found[2].decision_id == decision_id("sensitive_customer", 1, "C1", FLAG_EXPIRED, "c3")


def test_flag_expires_90_days_after_the_last_negative() -> None:
    facts = [fact("c1", at(0, 10), "complaint"), fact("c2", at(10, 10), "complaint")]
    deadline = at(100, 10)

    expired = of("sensitive_customer", facts)[-1]
    before = decide(facts, stream_time=deadline - 1)
    after = decide(facts, stream_time=deadline)

    assert expired.action == FLAG_EXPIRED
    assert expired.at == expired.due == deadline
    assert expired.triggers == ("c2",)
    assert expired.summary == "no new complaint for 90 days"
    assert expired not in before.decisions
    assert before.next_due == deadline
    assert expired in after.decisions
    assert after.next_due is None


def test_a_complaint_after_expiry_needs_the_threshold_again() -> None:
    facts = [
        fact("c1", at(0), "complaint"),
        fact("c2", at(10), "complaint"),
        fact("c3", at(120), "complaint"),  # after the expiry at day 100: alone, no flag
    ]
    again = [*facts, fact("c4", at(125), "complaint")]

    assert flags(facts) == [
        (FLAG_RAISED, at(10), ("c1", "c2")),
        (FLAG_EXPIRED, at(100), ("c2",)),
    ]
    assert flags(again) == [
        (FLAG_RAISED, at(10), ("c1", "c2")),
        (FLAG_EXPIRED, at(100), ("c2",)),
        (FLAG_RAISED, at(125), ("c3", "c4")),
        (FLAG_EXPIRED, at(215), ("c4",)),
    ]


def test_a_complaint_exactly_at_expiry_does_not_renew() -> None:
    facts = [
        fact("c1", at(0), "complaint"),
        fact("c2", at(10), "complaint"),
        fact("c3", at(100), "complaint"),
    ]

    assert flags(facts) == [
        (FLAG_RAISED, at(10), ("c1", "c2")),
        (FLAG_EXPIRED, at(100), ("c2",)),
    ]


def test_sensitive_customer_parameters_are_configurable() -> None:
    rules = RuleSet(
        sensitive_customer=SensitiveCustomerRule(
            version=2, threshold=3, window_days=5, max_score=3, expiry_days=10
        )
    )
    facts = [
        fact("c1", at(0), "complaint"),
        fact("f1", at(2), "feedback", "web", score=3),
        fact("c2", at(4), "complaint"),
    ]

    found = of("sensitive_customer", facts, rules)

    assert [(d.action, d.at, d.triggers, d.rule_version) for d in found] == [
        (FLAG_RAISED, at(4), ("c1", "f1", "c2"), 2),
        (FLAG_EXPIRED, at(14), ("c2",), 2),
    ]
    assert flags(facts[:2], rules) == []


def test_flag_raised_late_is_due_when_known_and_so_is_its_expiry() -> None:
    facts = [fact("c1", at(0), "complaint"), late(fact("c2", at(1), "complaint"), at(200))]

    raised, expired = of("sensitive_customer", facts)

    assert (raised.at, raised.due) == (at(1), at(200))
    assert (expired.at, expired.due) == (at(91), at(200))


def test_expiry_after_a_late_renewal_is_not_due_before_the_renewal_is_known() -> None:
    """The expiry names the renewal as its trigger; it must not be emitted before it."""
    facts = [
        fact("c1", at(0), "complaint"),
        fact("c2", at(1), "complaint"),
        late(fact("c3", at(50), "complaint"), at(150)),  # renews until day 140, known at 150
    ]

    _, renewed, expired = of("sensitive_customer", facts)

    assert (renewed.action, renewed.due) == (FLAG_RENEWED, at(150))
    assert (expired.action, expired.at, expired.triggers) == (FLAG_EXPIRED, at(140), ("c3",))
    assert expired.due == at(150)
    assert [d.action for d in of_due("sensitive_customer", facts, at(145))] == [FLAG_RAISED]


def of_due(rule_id: str, facts: Iterable[Fact], stream_time: int) -> list[Decision]:
    return [d for d in decide(facts, stream_time=stream_time).decisions if d.rule_id == rule_id]


# -- agent_warning --------------------------------------------------------------------------


def test_contacts_while_sensitive_warn_the_agent() -> None:
    facts = [
        fact("c1", at(0, 10), "complaint"),
        fact("q0", at(5, 10), "inquiry"),  # before the raise
        fact("c2", at(10, 10), "complaint"),  # the raise itself
        fact("q1", at(20, 10), "inquiry", "chat"),
        fact("f1", at(21, 10), "feedback", "web", score=4),  # not a contact
        fact("s1", at(22, 10), "self_service", "app"),  # not a contact
        fact("o1", at(23, 10), "callback"),  # outbound
        fact("r1", at(24, 10), "service_request", service_type="outage"),
        fact("q2", at(101, 10), "inquiry"),  # after the expiry at day 100
    ]

    warnings = of("agent_warning", facts)

    assert [w.triggers for w in warnings] == [("q1", "c1", "c2"), ("r1", "c1", "c2")]
    first = warnings[0]
    assert first.action == ALERT
    assert first.at == first.due == at(20, 10)
    assert first.severity == "info"
    assert first.service_type == "billing"
    assert first.decision_id == decision_id("agent_warning", 1, "C1", "q1")
    assert first.reasons[0].startswith("sensitive since 2026-01-15: 2 complaints")
    assert "sensitive customer on the line (chat, billing)" in first.summary
    assert warnings[1].service_type == "outage"


def test_agent_warning_lists_the_open_episodes() -> None:
    facts = [
        fact("c1", at(0, 10), "complaint"),
        fact("c2", at(10, 10), "complaint"),  # 10 days later: an episode of its own
        fact("k1", at(11, 10), "case_resolved", case_id="K2", parent="c2"),  # closes c2's
        fact("q1", at(20, 10), "inquiry"),
    ]

    warning = only("agent_warning", facts)

    open_now = (episode_id("C1", "c1"), episode_id("C1", "q1"))
    assert warning.episodes == open_now
    assert warning.reasons[1:] == tuple(f"open episode {e}" for e in open_now)
    assert "2 open episode(s)" in warning.summary


def test_a_complaint_while_sensitive_warns_and_renews() -> None:
    facts = [
        fact("c1", at(0), "complaint"),
        fact("c2", at(10), "complaint"),
        fact("c3", at(95), "complaint"),  # renews until day 185
        fact("q1", at(150), "inquiry"),
    ]

    assert [w.triggers[0] for w in of("agent_warning", facts)] == ["c3", "q1"]
    assert (FLAG_RENEWED, at(95), ("c3",)) in flags(facts)


def test_no_warning_when_the_flag_was_not_known_at_the_contact() -> None:
    facts = [
        fact("c1", at(0), "complaint"),
        late(fact("c2", at(10), "complaint"), at(25)),  # the raise is known on day 25
        fact("q1", at(20), "inquiry"),  # recorded at day 20: nobody knew yet
        fact("q2", at(30), "inquiry"),
        late(fact("q3", at(22), "inquiry"), at(26)),  # occurred before, recorded after
    ]

    warnings = of("agent_warning", facts)

    assert [(w.triggers[0], w.due) for w in warnings] == [("q3", at(26)), ("q2", at(30))]


def test_no_warning_when_only_a_late_renewal_kept_the_flag_in_force() -> None:
    facts = [
        fact("c1", at(0), "complaint"),
        fact("c2", at(1), "complaint"),  # raised; lapses on day 91 unless renewed
        late(fact("c3", at(50), "complaint"), at(200)),  # renews until day 140, known on day 200
        fact("q1", at(100), "inquiry"),  # on day 100 the stream knows the flag lapsed
    ]

    # Either no warning (the agent could not have been warned) or one not due before day 200.
    assert all(w.due >= at(200) for w in of("agent_warning", facts))


def test_as_known_the_flag_lapses_exactly_at_the_expiry_after_the_last_known_negative() -> None:
    facts = [
        fact("c1", at(0), "complaint"),
        fact("c2", at(1), "complaint"),  # raised; lapses at day 91 unless renewed
        late(fact("c3", at(50), "complaint"), at(200)),  # renews to day 140, known on day 200
        fact("q1", at(91) - 1, "inquiry"),  # a microsecond before the lapse: warned
        fact("q2", at(91), "inquiry"),  # at the lapse, as known then: not sensitive
    ]

    assert [w.triggers[0] for w in of("agent_warning", facts)] == ["c3", "q1"]


def test_no_agent_warnings_without_the_sensitive_rule() -> None:
    facts = [
        fact("c1", at(0), "complaint"),
        fact("c2", at(10), "complaint"),
        fact("q1", at(20), "inquiry"),
    ]
    off = RuleSet(sensitive_customer=SensitiveCustomerRule(enabled=False))

    assert len(of("agent_warning", facts)) == 1
    assert of("agent_warning", facts, off) == []
    assert of("sensitive_customer", facts, off) == []


def test_agent_warning_not_contacts_is_configurable() -> None:
    facts = [
        fact("c1", at(0), "complaint"),
        fact("c2", at(10), "complaint"),
        fact("q1", at(20), "inquiry"),
        fact("s1", at(21), "self_service", "app"),
    ]
    rules = RuleSet(agent_warning=AgentWarningRule(not_contacts=frozenset({Kind.INQUIRY})))

    assert [w.triggers[0] for w in of("agent_warning", facts, rules)] == ["s1"]


# -- channel_hopping -------------------------------------------------------------------------


def test_three_channels_on_one_service_type_within_48_hours_raise_one_alert() -> None:
    facts = [
        fact("p1", at(0, 9), "inquiry", "phone"),
        fact("e1", at(0, 20), "inquiry", "email"),
        fact("p2", at(1, 8), "inquiry", "phone"),
        fact("t1", at(2, 8), "inquiry", "chat"),
        fact("w1", at(2, 9), "inquiry", "web"),  # a fourth channel, same window: quiet
    ]
    rules = RuleSet(repeat_request=RepeatRequestRule(enabled=False))

    alerts = of("channel_hopping", facts, rules)

    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.triggers == ("p1", "e1", "p2", "t1")
    assert alert.at == alert.due == at(2, 8)
    assert alert.decision_id == decision_id("channel_hopping", 1, "C1", "t1")
    assert alert.summary.startswith("3 channels on billing within 47 hours: phone → email → chat")


def test_three_channels_over_72_hours_raise_nothing() -> None:
    facts = [
        fact("p1", at(0, 0), "inquiry", "phone"),
        fact("e1", at(1, 12), "inquiry", "email"),
        fact("t1", at(3, 0), "inquiry", "chat"),
    ]

    assert of("channel_hopping", facts) == []


def test_channel_hopping_ignores_other_service_types_repeats_and_outbound() -> None:
    facts = [
        fact("p1", at(0, 9), "inquiry", "phone"),
        fact("p2", at(0, 10), "inquiry", "phone"),
        fact("e1", at(0, 11), "inquiry", "email", service_type="outage"),
        fact("o1", at(0, 12), "notification_sent", "sms"),
        fact("o2", at(0, 13), "contact_handled", "chat"),
    ]

    assert of("channel_hopping", facts) == []


def test_channel_hopping_threshold_is_configurable() -> None:
    facts = [fact("p1", at(0, 9), "inquiry", "phone"), fact("e1", at(0, 11), "inquiry", "email")]
    rules = RuleSet(channel_hopping=ChannelHoppingRule(threshold=2, window_hours=3))

    assert only("channel_hopping", facts, rules).triggers == ("p1", "e1")
    assert of("channel_hopping", facts) == []


# -- sla_overdue ------------------------------------------------------------------------------


def test_unanswered_complaint_is_overdue_48_hours_later() -> None:
    complaint = fact("c1", at(0, 10), "complaint", case_id="K1")

    alert = only("sla_overdue", [complaint])

    assert alert.at == alert.due == at(2, 10)
    assert alert.triggers == ("c1",)
    assert alert.severity == "critical"
    assert alert.decision_id == decision_id("sla_overdue", 1, "C1", "c1")
    assert alert.summary == (
        "complaint on billing of 2026-01-05 10:00 UTC has no resolution after 48 hours"
    )


@pytest.mark.parametrize(
    "answer",
    [
        fact("a1", at(1, 10), "case_resolved", case_id="K1", service_type="other"),
        fact("a1", at(2, 10), "case_closed", case_id="K1"),  # exactly at the deadline
        fact("a1", at(0, 11), "case_resolved", case_id="K1", outcome="resolved"),
    ],
)
def test_complaint_answered_on_its_case_within_the_deadline_is_not_overdue(answer: Fact) -> None:
    complaint = fact("c1", at(0, 10), "complaint", case_id="K1")

    assert of("sla_overdue", [complaint, answer]) == []


@pytest.mark.parametrize(
    "answer",
    [
        fact("a1", at(1, 10), "contact_handled", outcome="resolved"),
        fact("a1", at(1, 10), "callback", outcome="resolved", case_id="K9"),
        fact("a1", at(1, 10), "case_resolved"),
    ],
)
def test_complaint_without_case_is_answered_on_its_service_type(answer: Fact) -> None:
    complaint = fact("c1", at(0, 10), "complaint")

    assert of("sla_overdue", [complaint, answer]) == []


@pytest.mark.parametrize(
    ("complaint_case", "answer"),
    [
        ("K1", fact("a1", at(1), "case_resolved", case_id="K2")),  # another case
        ("K1", fact("a1", at(1), "contact_handled", outcome="resolved")),  # no case
        ("K1", fact("a1", at(1), "case_resolved", case_id="K1", outcome="unresolved")),
        (None, fact("a1", at(1), "contact_handled", outcome="resolved", service_type="x")),
        (None, fact("a1", at(1), "contact_handled", outcome="unresolved")),
        (None, fact("a1", at(1), "contact_handled")),  # no outcome
        (None, fact("a1", at(1), "inquiry", outcome="resolved")),  # inbound
        (None, fact("a1", at(2, 10) + 1, "case_resolved")),  # after the deadline
        (None, fact("a1", at(5), "contact_handled", outcome="resolved")),  # after the deadline
    ],
)
def test_complaint_not_answered_in_time_is_overdue(
    complaint_case: str | None, answer: Fact
) -> None:
    complaint = fact("c1", at(0, 10), "complaint", case_id=complaint_case)

    assert only("sla_overdue", [complaint, answer]).at == at(2, 10)


def test_answer_before_the_complaint_does_not_count() -> None:
    facts = [
        fact("a1", at(0, 9), "contact_handled", outcome="resolved"),
        fact("c1", at(0, 10), "complaint"),
    ]

    assert only("sla_overdue", facts).triggers == ("c1",)


def test_overdue_alert_waits_for_the_stream_to_pass_the_deadline() -> None:
    facts = [fact("c1", at(0, 10), "complaint"), fact("q1", at(1, 10), "inquiry")]
    deadline = at(2, 10)

    before = decide(facts, stream_time=deadline - 1)
    after = decide(facts, stream_time=deadline)

    assert [d.rule_id for d in before.decisions] == []
    assert before.next_due == deadline
    assert [d.rule_id for d in after.decisions] == ["sla_overdue"]
    assert after.next_due is None


def test_overdue_alert_of_a_late_complaint_is_due_when_it_is_known() -> None:
    complaint = late(fact("c1", at(0, 10), "complaint"), at(5))

    alert = only("sla_overdue", [complaint])

    assert (alert.at, alert.due) == (at(2, 10), at(5))


def test_sla_deadline_is_configurable() -> None:
    rules = RuleSet(sla_overdue=SlaOverdueRule(deadline_hours=2.5, version=4))
    facts = [
        fact("c1", at(0, 10), "complaint"),
        fact("a1", at(0, 13), "contact_handled", outcome="resolved"),
    ]

    alert = only("sla_overdue", facts, rules)
    assert alert.at == at(0, 12.5)
    assert alert.rule_version == 4
    assert "after 2.5 hours" in alert.summary
    assert of("sla_overdue", facts) == []


# -- dnd_violation ----------------------------------------------------------------------------


def test_outbound_call_at_20_local_on_a_weekday_is_a_violation() -> None:
    # Monday 12:00 UTC is 20:00 at UTC+08:00.
    call = fact("o1", at(0, 12), "callback", "phone", offset_minutes=480)

    alert = only("dnd_violation", [call])

    assert alert.reasons == (DND_WINDOW,)
    assert alert.summary.startswith(f"{DND_WINDOW}: 20:00 local is outside")
    assert "2026-01-05 20:00 Mon UTC+0800" in alert.summary
    assert alert.triggers == ("o1",)
    assert alert.at == alert.due == at(0, 12)
    assert alert.decision_id == decision_id("dnd_violation", 1, "C1", DND_WINDOW, "o1")


def test_outbound_call_inside_the_window_is_fine() -> None:
    call = fact("o1", at(0, 2), "callback", "phone", offset_minutes=480)  # 10:00 local

    assert of("dnd_violation", [call]) == []


@pytest.mark.parametrize(("kind", "channel"), [("outage_notice", "phone"), ("callback", "letter")])
def test_exempt_kinds_and_channels_are_no_violation(kind: str, channel: str) -> None:
    notice = fact("o1", at(0, 12), kind, channel, offset_minutes=480)

    assert of("dnd_violation", [notice]) == []


def test_inbound_contact_at_night_is_no_violation() -> None:
    assert of("dnd_violation", [fact("q1", at(0, 23), "inquiry")]) == []


def test_call_after_a_long_silence_is_a_violation_of_its_own_rule() -> None:
    facts = [
        fact("q1", at(0, 10), "inquiry"),
        fact("o1", at(91, 10), "callback", "phone"),  # a Monday, inside the window
    ]

    alert = only("dnd_violation", facts)

    assert alert.reasons == (SILENCE_REAL_TIME,)
    assert alert.decision_id == decision_id("dnd_violation", 1, "C1", SILENCE_REAL_TIME, "o1")


def test_dnd_violation_can_be_switched_off() -> None:
    call = fact("o1", at(0, 12), "callback", "phone", offset_minutes=480)
    rules = RuleSet(dnd_violation=DndViolationRule(enabled=False))

    assert of("dnd_violation", [call], rules) == []


# -- determinism and ids -----------------------------------------------------------------------


def busy_history(customer_id: str = "C1") -> list[Fact]:
    """A history that makes every rule decide something."""
    facts = [
        fact("c1", at(0, 10), "complaint", "phone"),
        fact("q1", at(0, 20), "inquiry", "email"),
        fact("c2", at(1, 9), "complaint", "chat"),
        fact("o1", at(1, 12), "callback", "phone", offset_minutes=480),
        fact("q2", at(3, 10), "inquiry", "phone"),
        late(fact("c3", at(6, 10), "complaint", "web", case_id="K1"), at(7)),
        fact("k1", at(7, 10), "case_resolved", case_id="K1"),
        fact("q3", at(40, 10), "service_request", service_type="outage"),
    ]
    return [f._replace(customer_id=customer_id) for f in facts]


def test_busy_history_exercises_every_rule() -> None:
    rules_seen = {d.rule_id for d in decide(busy_history()).decisions}

    assert rules_seen == set(RULES.versions())


def test_same_facts_give_the_same_decisions_and_ids() -> None:
    first = decide(busy_history())
    second = decide(busy_history())

    assert first == second
    assert [d.decision_id for d in first.decisions] == [d.decision_id for d in second.decisions]
    assert len({d.decision_id for d in first.decisions}) == len(first.decisions)


def test_decisions_are_in_event_time_then_id_order() -> None:
    decisions = decide(busy_history()).decisions

    assert list(decisions) == sorted(decisions, key=lambda d: (d.at, d.decision_id))
    assert evaluate_all(in_event_time_order(busy_history()), RULES, CONFIG) == list(decisions)


@pytest.mark.parametrize(
    ("name", "bumped"),
    [
        ("repeat_request", RepeatRequestRule(version=2)),
        ("sensitive_customer", SensitiveCustomerRule(version=2)),
        ("agent_warning", AgentWarningRule(version=2)),
        ("channel_hopping", ChannelHoppingRule(version=2)),
        ("sla_overdue", SlaOverdueRule(version=2)),
        ("dnd_violation", DndViolationRule(version=2)),
    ],
)
def test_decision_ids_change_with_the_rule_version(name: str, bumped: Any) -> None:
    rules = RuleSet.model_validate({name: bumped})

    old = {(d.rule_id, d.at, d.triggers): d for d in decide(busy_history()).decisions}
    new = {(d.rule_id, d.at, d.triggers): d for d in decide(busy_history(), rules).decisions}

    assert old.keys() == new.keys()
    assert any(key[0] == name for key in old)
    for key, decision in old.items():
        changed = new[key].decision_id != decision.decision_id
        assert changed == (key[0] == name), key
        assert new[key].rule_version == (2 if key[0] == name else 1)


def test_decision_ids_differ_per_customer() -> None:
    one = decide(busy_history("C1")).decisions
    two = decide(busy_history("C2")).decisions

    assert sorted((d.rule_id, d.at, d.triggers) for d in one) == sorted(
        (d.rule_id, d.at, d.triggers) for d in two
    )
    assert {d.customer_id for d in two} == {"C2"}
    assert not {d.decision_id for d in one} & {d.decision_id for d in two}


@pytest.mark.parametrize("seed", range(5))
def test_no_decision_depends_on_input_order(seed: int) -> None:
    shuffled = busy_history()
    random.Random(seed).shuffle(shuffled)

    assert decide(shuffled) == decide(busy_history())


def test_evaluate_rejects_unknown_rule_settings() -> None:
    with pytest.raises(TypeError, match="no evaluation registered"):
        evaluate(object(), [], RULES, CONFIG)


# -- properties over random histories ----------------------------------------------------------

_KINDS = (
    "inquiry",
    "complaint",
    "complaint",
    "service_request",
    "report",
    "feedback",
    "self_service",
    "contact_handled",
    "case_resolved",
    "callback",
    "outage_notice",
    "notification_sent",
)
#: Short windows, so that the late recordings below cross deadlines and expiries.
TIGHT = RuleSet(
    repeat_request=RepeatRequestRule(window_hours=48),
    sensitive_customer=SensitiveCustomerRule(window_days=5, expiry_days=3),
    channel_hopping=ChannelHoppingRule(window_hours=12),
    sla_overdue=SlaOverdueRule(deadline_hours=12),
)


@st.composite
def histories(draw: st.DrawFn) -> list[Fact]:
    """One customer's facts over ~60 days, in event-time order, some recorded late."""
    count = draw(st.integers(0, 24), label="count")
    facts = []
    for index in range(count):
        kind = draw(st.sampled_from(_KINDS))
        occurred = at(0) + draw(st.integers(0, 60 * 24 * 4)) * 15 * MINUTE_US
        item = make_fact(
            f"e{index:02}",
            occurred,
            kind,
            draw(st.sampled_from(["phone", "email", "chat", "web"])),
            service_type=draw(st.sampled_from(["billing", "outage"])),
            case_id=draw(st.sampled_from([None, "K1", "K2"])),
            outcome=draw(st.sampled_from([None, "resolved", "unresolved"])),
            score=draw(st.integers(1, 5)) if kind == "feedback" else None,
            offset_minutes=draw(st.sampled_from([0, 480, -300])),
        )
        delay = draw(st.sampled_from([0, 0, 0, 1, 30, 100]), label="late hours")
        facts.append(late(item, occurred + delay * HOUR_US))
    return in_event_time_order(facts)


@settings(max_examples=60, deadline=None)
@given(histories(), st.sampled_from([RULES, TIGHT]), st.data())
def test_assessment_properties(history: list[Fact], rules: RuleSet, data: st.DataObject) -> None:
    arrived = arrival_histories(data, history, st.integers(0, 6), st.integers(1, 5))
    final = arrived[-1] if arrived else []
    assert final == history
    by_id = {f.event_id: f for f in history}
    stream_time = data.draw(st.integers(at(0), at(70)), label="stream time")

    everything = decide(history, rules, END)
    result = decide(history, rules, stream_time)
    shuffled = list(history)
    random.Random(data.draw(st.integers(0, 2**16), label="seed")).shuffle(shuffled)

    # The input order does not matter once facts are put in event-time order.
    assert decide(shuffled, rules, stream_time) == result
    # A stream time only selects among the decisions the history implies.
    assert result.decisions == tuple(d for d in everything.decisions if d.due <= stream_time)
    later = [d.due for d in everything.decisions if d.due > stream_time]
    assert result.next_due == min(later, default=None)
    assert result.next_due is None or result.next_due > stream_time
    for decision in everything.decisions:
        assert decision.triggers and set(decision.triggers) <= by_id.keys()
        triggers = [by_id[t] for t in decision.triggers]
        # Never due before the touchpoints it names are known, nor before it holds.
        assert decision.due >= max(t.recorded for t in triggers), decision
        assert decision.due >= decision.at, decision
        assert decision.customer_id == "C1"
        assert decision.rule_version == rules.versions()[decision.rule_id]
    assert len({d.decision_id for d in everything.decisions}) == len(everything.decisions)
    # Every intermediate history assesses consistently at its own stream time.
    for seen in arrived:
        now = max(f.recorded for f in seen)
        partial = decide(seen, rules, now)
        known = {f.event_id for f in seen}
        assert all(d.due <= now and set(d.triggers) <= known for d in partial.decisions)
        assert partial.next_due is None or partial.next_due > now


# -- FoldRunner(also=) -------------------------------------------------------------------------


class MemoryHistory:
    """The journey view: every fact written, read back per customer."""

    def __init__(self) -> None:
        self.facts: list[Fact] = []
        self.asked: list[list[str]] = []

    def facts_of(self, customers: Iterable[str]) -> list[Fact]:
        wanted = sorted(customers)
        self.asked.append(wanted)
        return [f for f in self.facts if f.customer_id in wanted]


class TickView:
    """A view whose one row per customer depends on its facts and on ``tick`` (a clock)."""

    name = "tick"

    def __init__(self, stored: dict[str, set[Hashable]] | None = None, version: int = 0) -> None:
        self.tick = 0
        self.folds: list[tuple[str, ...]] = []
        self.upserts: list[tuple[list[Any], int]] = []
        self.retracts: list[tuple[list[tuple[str, Hashable]], int]] = []
        self.keys_asked: list[list[str]] = []
        self.stored = stored or {}
        self.version = version

    def ensure(self) -> None:
        pass

    def reset(self) -> None:
        pass

    def fold(self, facts: Sequence[Fact], scratch: dict[str, Any]) -> dict[Hashable, Any]:
        ids = tuple(f.event_id for f in facts)
        self.folds.append(ids)
        if not facts:
            return {}
        return {"summary": (facts[0].customer_id, ids, self.tick)}

    def upsert(self, rows: Sequence[Any], version: int) -> None:
        self.upserts.append((list(rows), version))

    def retract(self, keys: Iterable[tuple[str, Hashable]], version: int) -> None:
        self.retracts.append((list(keys), version))

    def keys_of(self, customers: Sequence[str]) -> dict[str, set[Hashable]]:
        self.keys_asked.append(sorted(customers))
        return {c: set(self.stored[c]) for c in customers if c in self.stored}

    def max_version(self) -> int:
        return self.version


def facts_of(customer_id: str, *ids: str, day: int = 0) -> list[Fact]:
    return [
        fact(event_id, at(day, index), customer_id=customer_id)
        for index, event_id in enumerate(ids)
    ]


def journal(history: MemoryHistory, runner: FoldRunner, facts: list[Fact], **kw: Any) -> None:
    """What the projector does: the journey view first, then the folds."""
    history.facts.extend(facts)
    runner.apply(facts, **kw)


def test_also_refolds_a_cached_customer_without_new_facts() -> None:
    history, view = MemoryHistory(), TickView()
    runner = FoldRunner(history, [view])
    journal(history, runner, facts_of("C1", "a1", "a2"))
    asked = len(history.asked)

    view.tick = 1
    stats, write = runner.fold([], also=["C1"])
    write()

    assert view.folds == [("a1", "a2"), ("a1", "a2")]
    assert (stats.customers, stats.cold, stats.upserted, stats.retracted) == (1, 0, 1, 0)
    assert len(history.asked) == asked  # served from the cache
    assert view.upserts[-1] == ([("C1", ("a1", "a2"), 1)], 2)


def test_also_refold_with_unchanged_rows_writes_nothing() -> None:
    history, view = MemoryHistory(), TickView()
    runner = FoldRunner(history, [view])
    journal(history, runner, facts_of("C1", "a1"))

    stats, write = runner.fold([], also=["C1"])
    write()

    assert view.folds == [("a1",), ("a1",)]
    assert (stats.customers, stats.upserted, stats.retracted) == (1, 0, 0)
    assert view.upserts[-1] == ([], 2)


def test_also_refolds_only_the_named_customers() -> None:
    history, view = MemoryHistory(), TickView()
    runner = FoldRunner(history, [view])
    journal(history, runner, facts_of("C1", "a1") + facts_of("C2", "b1"))
    view.folds.clear()

    stats, _ = runner.fold([], also=iter(["C2", "C2"]))

    assert view.folds == [("b1",)]
    assert stats.customers == 1


def test_also_customer_with_new_facts_is_folded_once_with_them() -> None:
    history, view = MemoryHistory(), TickView()
    runner = FoldRunner(history, [view])
    journal(history, runner, facts_of("C1", "a1"))
    view.folds.clear()
    new = [fact("a2", at(3), customer_id="C1")]
    history.facts.extend(new)

    stats, _ = runner.fold(new, also=["C1"])

    assert view.folds == [("a1", "a2")]
    assert stats.customers == 1


def test_also_reloads_an_evicted_customer() -> None:
    history, view = MemoryHistory(), TickView()
    runner = FoldRunner(history, [view], max_facts=2)
    journal(history, runner, facts_of("C1", "a1", "a2"))
    journal(history, runner, facts_of("C2", "b1", "b2"))  # 4 facts > 2: C1 is evicted
    view.stored = {"C1": {"summary", "stale"}}
    history.asked.clear()
    view.folds.clear()

    stats, write = runner.fold([], also=["C1"])
    write()

    assert history.asked == [["C1"]]
    assert view.folds == [("a1", "a2")]
    assert (stats.customers, stats.cold, stats.upserted, stats.retracted) == (1, 1, 1, 1)
    assert view.retracts[-1] == ([("C1", "stale")], 3)
    assert view.upserts[-1] == ([("C1", ("a1", "a2"), 0)], 3)


def test_also_reloads_an_evicted_customer_with_complete_history() -> None:
    history, view = MemoryHistory(), TickView()
    runner = FoldRunner(history, [view], max_facts=2)
    journal(history, runner, facts_of("C1", "a1", "a2"), complete_history=True)
    journal(history, runner, facts_of("C2", "b1", "b2"), complete_history=True)
    assert history.asked == []  # both new in a complete history: nothing loaded
    view.folds.clear()

    stats, _ = runner.fold([], complete_history=True, also=["C1"])

    assert history.asked == [["C1"]]
    assert view.folds == [("a1", "a2")]
    assert stats.cold == 1


def test_evicted_customer_with_new_facts_is_reloaded_with_complete_history() -> None:
    history, view = MemoryHistory(), TickView()
    runner = FoldRunner(history, [view], max_facts=2)
    journal(history, runner, facts_of("C1", "a1", "a2"), complete_history=True)
    journal(history, runner, facts_of("C2", "b1", "b2"), complete_history=True)
    view.folds.clear()

    journal(history, runner, facts_of("C1", "a3", day=1), complete_history=True)

    assert history.asked == [["C1"]]
    assert view.folds == [("a1", "a2", "a3")]


def test_also_loads_a_customer_the_runner_never_held() -> None:
    history, view = MemoryHistory(), TickView(stored={"C3": {"summary"}}, version=7)
    history.facts.extend(facts_of("C3", "c1", "c2", "c3"))  # written before a restart
    runner = FoldRunner(history, [view])

    stats, write = runner.fold([], also=["C3"])
    write()

    assert history.asked == [["C3"]]
    assert view.keys_asked == [["C3"]]
    assert view.folds == [("c1", "c2", "c3")]
    assert (stats.customers, stats.cold, stats.upserted, stats.retracted) == (1, 1, 1, 0)
    assert view.upserts == [([("C3", ("c1", "c2", "c3"), 0)], 8)]


def test_also_customers_are_never_first_seen() -> None:
    """With complete_history and empty views a customer new to the runner is first seen (no
    history to load), unless it is named in ``also``: it has a history somewhere."""
    history, view = MemoryHistory(), TickView()
    history.facts.extend(facts_of("C3", "c1", "c2"))
    runner = FoldRunner(history, [view])
    new = facts_of("C4", "d1")
    history.facts.extend(new)

    stats, _ = runner.fold(new, complete_history=True, also=["C3"])

    assert history.asked == [["C3"]]
    assert view.keys_asked == [["C3"]]
    assert sorted(view.folds) == [("c1", "c2"), ("d1",)]
    assert (stats.customers, stats.cold) == (2, 1)


def test_first_seen_customer_loads_nothing_with_complete_history() -> None:
    history, view = MemoryHistory(), TickView()
    runner = FoldRunner(history, [view])

    stats, _ = runner.fold(facts_of("C4", "d1"), complete_history=True)

    assert history.asked == []
    assert view.keys_asked == []
    assert stats.cold == 0


def test_nothing_to_fold_without_facts_or_also() -> None:
    history, view = MemoryHistory(), TickView()
    runner = FoldRunner(history, [view])

    stats, write = runner.fold([], also=[])
    write()

    assert (stats.customers, stats.cold, stats.upserted) == (0, 0, 0)
    assert view.folds == []
    assert view.upserts == []
    runner.apply(facts_of("C1", "a1"))
    assert view.upserts[-1][1] == 1  # no version was spent on the empty call


def test_after_an_expiry_a_new_flag_needs_the_threshold_from_later_complaints() -> None:
    """With an expiry shorter than the window, the complaints that raised the expired flag
    do not count again: one complaint after the expiry raises nothing."""
    from projections.risk.config import SensitiveCustomerRule

    rules = RuleSet(sensitive_customer=SensitiveCustomerRule(window_days=30, expiry_days=10))
    facts = [
        make_fact("c1", FOLD_EPOCH_US, "complaint", service_type="water"),
        make_fact("c2", FOLD_EPOCH_US + DAY_US, "complaint", service_type="water"),
        make_fact("c3", FOLD_EPOCH_US + 15 * DAY_US, "complaint", service_type="water"),
    ]
    actions = [
        (d.action, d.triggers)
        for d in assess(facts, rules, ProjectionConfig(), FOLD_EPOCH_US + 60 * DAY_US).decisions
        if d.rule_id == "sensitive_customer"
    ]
    assert actions == [("flag_raised", ("c1", "c2")), ("flag_expired", ("c2",))]


# -- agent_warning: the indexed implementation equals the straightforward one ------------------
#
# ``_agent_warning`` finds the flag period in force by bisection and the open episodes in one
# sweep. The reference below is the straightforward definition it replaced (every period's
# negatives scanned per contact, every scene scanned per warning), kept here verbatim in
# substance: the two must agree on every field of every decision.


def _reference_in_force(period: Any, moment: int, known_by: int, expiry: int) -> bool:
    if period.raised.due > known_by or not period.raised.at < moment < period.expires:
        return False
    last = max(
        (
            occurred
            for occurred, recorded in period.negatives
            if recorded <= known_by and occurred < moment
        ),
        default=None,
    )
    return last is not None and moment < last + expiry


def reference_agent_warnings(facts: Sequence[Fact], rules: RuleSet) -> list[Decision]:
    """The agent warnings as first written: a scan per contact and per warning."""
    rule = rules.agent_warning
    if not rules.sensitive_customer.enabled:
        return []
    _, periods = sensitive_periods(rules.sensitive_customer, facts)
    if not periods:
        return []
    skip = {kind.value for kind in rule.not_contacts}
    expiry = round(rules.sensitive_customer.expiry_days * DAY_US)
    found: list[Decision] = []
    scenes = None
    for item in facts:
        if item.direction != "inbound" or item.actor_type != "customer" or item.kind in skip:
            continue
        period = next(
            (p for p in periods if _reference_in_force(p, item.occurred, item.recorded, expiry)),
            None,
        )
        if period is None:
            continue
        if scenes is None:
            scenes = scenes_of(facts, CONFIG.scenes, CONFIG.costs)
        open_now = tuple(
            scene.episode_id
            for scene in scenes
            if scene.started_at <= item.occurred
            and (scene.resolved_at is None or scene.resolved_at > item.occurred)
        )
        day = datetime.fromtimestamp(period.raised.at / 1_000_000, UTC).strftime("%Y-%m-%d")
        found.append(
            Decision(
                decision_id=decision_id(
                    "agent_warning", rule.version, item.customer_id, item.event_id
                ),
                rule_id="agent_warning",
                rule_version=rule.version,
                customer_id=item.customer_id,
                action=ALERT,
                at=item.occurred,
                due=max(item.recorded, period.raised.due),
                service_type=item.service_type,
                severity=rule.severity,
                triggers=(item.event_id, *period.raised.triggers),
                summary=(
                    f"sensitive customer on the line ({item.channel}, {item.service_type}); "
                    f"{len(open_now)} open episode(s)"
                ),
                reasons=(
                    f"sensitive since {day}: {period.raised.summary}",
                    *(f"open episode {episode}" for episode in open_now),
                ),
                episodes=open_now,
            )
        )
    return found


def assert_same_agent_warnings(facts: list[Fact], rules: RuleSet) -> list[Decision]:
    """The indexed rule equals the reference, and sharing the scenes changes nothing."""
    expected = reference_agent_warnings(facts, rules)
    assert evaluate(rules.agent_warning, facts, rules, CONFIG) == expected
    folded = tuple(scenes_of(facts, CONFIG.scenes, CONFIG.costs))
    assert evaluate(rules.agent_warning, facts, rules, CONFIG, lambda: folded) == expected
    stream_time = max((f.recorded for f in facts), default=0)
    assert assess(facts, rules, CONFIG, stream_time, scenes=lambda: folded) == assess(
        facts, rules, CONFIG, stream_time
    )
    return expected


#: Contacts that also count as negatives, so warnings and renewals interleave.
NARROW = RuleSet(
    sensitive_customer=SensitiveCustomerRule(threshold=1, window_days=2, expiry_days=1.5),
    agent_warning=AgentWarningRule(not_contacts=frozenset({Kind.SELF_SERVICE})),
)


@settings(max_examples=150, deadline=None)
@given(histories(), st.sampled_from([RULES, TIGHT, NARROW]))
def test_agent_warnings_equal_the_reference_on_random_histories(
    history: list[Fact], rules: RuleSet
) -> None:
    assert_same_agent_warnings(history, rules)


def generated_facts(customers: int, days: int, seed: int) -> dict[str, list[Fact]]:
    """Generated customers' facts (as the journey view's fact columns give them), by customer,
    some recorded hours or days late (seeded), so that knowledge lags the events."""
    intake = Intake(IdentifierHasher(b"w" * 16), PersonalVault(MemoryKeyStore()), lambda: BASE_TIME)
    delays = random.Random(seed)
    by_customer: dict[str, list[Fact]] = {}
    for record in generate(customers, days, seed):
        fact = fact_of(intake.touchpoint(record))
        lag = delays.choice([0, 0, 0, 0, HOUR_US, 30 * HOUR_US, 5 * DAY_US])
        item = fact._replace(recorded=max(fact.recorded, fact.occurred + lag))
        by_customer.setdefault(item.customer_id, []).append(item)
    return by_customer


@pytest.mark.parametrize("seed", [3, 17])
def test_agent_warnings_equal_the_reference_on_generated_data(seed: int) -> None:
    by_customer = generated_facts(40, 60, seed)
    warnings: list[Decision] = []
    for rules in (RULES, TIGHT, NARROW):
        # Each customer on its own, then everyone as one long-lived customer (each history
        # shifted after the previous one) and as one very busy customer (all in 60 days): many
        # periods, renewals and open episodes per warning.
        for facts in by_customer.values():
            warnings += assert_same_agent_warnings(in_event_time_order(facts), rules)
        spread, dense = [], []
        for index, facts in enumerate(by_customer.values()):
            shift = index * 60 * DAY_US
            for item in facts:
                one = item._replace(customer_id="HEAVY")
                dense.append(one)
                spread.append(
                    one._replace(occurred=one.occurred + shift, recorded=one.recorded + shift)
                )
        for heavy in (in_event_time_order(spread), in_event_time_order(dense)):
            warnings += assert_same_agent_warnings(heavy, rules)
            # As known at moments along the history (what an as-of reconstruction evaluates).
            for moment in (heavy[len(heavy) // 3].occurred, heavy[2 * len(heavy) // 3].occurred):
                known = [f for f in heavy if f.occurred <= moment and f.recorded <= moment]
                assert_same_agent_warnings(known, rules)
    # The data exercises the rule: many warnings, with few and with many open episodes.
    assert len(warnings) > 100
    assert len({len(w.episodes) for w in warnings}) > 5
