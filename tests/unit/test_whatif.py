"""What-if diff: pairing production with candidate decisions, the window, the per-rule diff.

Decisions are made by hand (:func:`occ`): customer ``C1``, service ``billing``, rule
``sla_overdue``, action ``alert`` unless a test says otherwise; ``at`` counts hours from
:data:`~tests.factories.FOLD_EPOCH_US`.
"""

from __future__ import annotations

from typing import Any

import pytest

from projections.facts import DAY_US, HOUR_US
from projections.policy import ProjectionConfig
from projections.risk import RuleSet, assess
from projections.risk.config import ChannelHoppingRule, RepeatRequestRule, SlaOverdueRule
from replay.whatif import (
    Occurrence,
    WhatIfBuilder,
    Window,
    candidate_decisions,
    pair,
    resolve,
)
from tests.factories import FOLD_EPOCH_US, make_fact

CONFIG = ProjectionConfig()


def hours(n: float) -> int:
    return FOLD_EPOCH_US + round(n * HOUR_US)


def occ(key: str, at_hours: float, *triggers: str, **fields: Any) -> Occurrence:
    values: dict[str, Any] = {
        "rule_id": "sla_overdue",
        "action": "alert",
        "customer_id": "C1",
        "service_type": "billing",
        "at": hours(at_hours),
        "rule_version": 1,
        "decision_id": key,
        "triggers": triggers or (f"t-{key}",),
        **fields,
    }
    return Occurrence(**values)


def test_the_same_moment_is_unchanged_whatever_the_id_and_version() -> None:
    before = [occ("p1", 10, "a")]
    after = [occ("c1", 10, "b", rule_version=2)]
    result = pair(before, after)
    assert result.unchanged == (before[0],)
    assert result.moved == () and result.appear == result.disappear == ()


def test_a_shared_trigger_at_another_moment_is_a_move() -> None:
    before = [occ("p1", 48, "complaint-1")]
    after = [occ("c1", 72, "complaint-1", rule_version=2)]
    result = pair(before, after)
    assert [(m.before.decision_id, m.after.decision_id) for m in result.moved] == [("p1", "c1")]
    assert result.moved[0].shift == 24 * HOUR_US
    assert result.unchanged == result.appear == result.disappear == ()


def test_no_shared_trigger_is_a_disappearance_and_an_appearance() -> None:
    result = pair([occ("p1", 10, "a")], [occ("c1", 20, "b")])
    assert [o.decision_id for o in result.disappear] == ["p1"]
    assert [o.decision_id for o in result.appear] == ["c1"]
    assert result.moved == ()


@pytest.mark.parametrize(
    "field, value",
    [
        ("customer_id", "C2"),
        ("service_type", "meter"),
        ("rule_id", "repeat_request"),
        ("action", "flag_raised"),
    ],
)
def test_only_the_same_customer_rule_service_type_and_action_pair(field: str, value: str) -> None:
    result = pair([occ("p1", 10, "a")], [occ("c1", 10, "a", **{field: value})])
    assert result.unchanged == () and result.moved == ()
    assert len(result.appear) == len(result.disappear) == 1


def test_exact_moments_pair_first_then_the_nearest_sharing_a_trigger() -> None:
    # Production alerted at 10, 50 and 90; the candidate at 50 and 95 (the 90 one, later)
    # and 200 (a new cause). The 10 one shares a trigger with nothing left: it disappears.
    before = [occ("p10", 10, "x"), occ("p50", 50, "y", "z"), occ("p90", 90, "z", "w")]
    after = [occ("c50", 50, "q"), occ("c95", 95, "w"), occ("c200", 200, "n")]
    result = pair(before, after)
    assert [o.decision_id for o in result.unchanged] == ["p50"]
    assert [(m.before.decision_id, m.after.decision_id) for m in result.moved] == [("p90", "c95")]
    assert [o.decision_id for o in result.disappear] == ["p10"]
    assert [o.decision_id for o in result.appear] == ["c200"]


def test_a_move_takes_the_nearest_candidate_and_each_candidate_once() -> None:
    before = [occ("p1", 10, "s"), occ("p2", 30, "s")]
    after = [occ("c1", 31, "s"), occ("c2", 100, "s")]
    result = pair(before, after)
    moves = {(m.before.decision_id, m.after.decision_id) for m in result.moved}
    assert moves == {("p1", "c1"), ("p2", "c2")}  # p1 first: the nearest to it is c1


def build(
    production: list[Occurrence],
    candidate: list[Occurrence],
    window: Window | None = None,
    candidate_rules: RuleSet | None = None,
) -> Any:
    builder = WhatIfBuilder(window or Window())
    builder.add(production, candidate)
    return builder.build(RuleSet(), candidate_rules or RuleSet(), hours(1000))


def actions_of(diff: Any, rule_id: str) -> dict[str, Any]:
    rule = next(r for r in diff.rules if r.rule_id == rule_id)
    return {a.action: a for a in rule.actions}


def test_the_diff_counts_per_rule_and_action_with_shifts_in_hours() -> None:
    production = [
        occ("p1", 48, "c1"),
        occ("p2", 60, "c2"),
        occ("p3", 80, "c3"),
        occ("f1", 5, "n1", rule_id="sensitive_customer", action="flag_raised"),
    ]
    candidate = [
        occ("q1", 72, "c1"),  # +24 h
        occ("q2", 66, "c2"),  # +6 h
        occ("f1", 5, "n1", rule_id="sensitive_customer", action="flag_raised"),
        occ("f2", 99, "n2", rule_id="sensitive_customer", action="flag_expired"),
    ]
    diff = build(production, candidate)
    sla = actions_of(diff, "sla_overdue")["alert"]
    assert (len(sla.appear), len(sla.disappear), len(sla.moved), sla.unchanged) == (0, 1, 2, 0)
    assert sla.median_shift_hours == pytest.approx(15.0)
    assert sla.max_shift_hours == pytest.approx(24.0)
    flags = actions_of(diff, "sensitive_customer")
    assert flags["flag_raised"].unchanged == 1 and not flags["flag_raised"].changed
    assert [o.decision_id for o in flags["flag_expired"].appear] == ["f2"]
    assert diff.changed
    assert [r.rule_id for r in diff.rules] == list(RuleSet.model_fields)


def test_the_largest_shift_keeps_its_sign() -> None:
    diff = build([occ("p1", 48, "a"), occ("p2", 48, "b")], [occ("c1", 40, "a"), occ("c2", 50, "b")])
    sla = actions_of(diff, "sla_overdue")["alert"]
    assert sla.max_shift_hours == pytest.approx(-8.0)
    assert sla.median_shift_hours == pytest.approx(-3.0)


def test_identical_decisions_give_an_empty_diff() -> None:
    same = [occ("p1", 1, "a"), occ("p2", 2, "b", rule_id="dnd_violation")]
    diff = build(same, list(same))
    assert not diff.changed
    assert actions_of(diff, "sla_overdue")["alert"].unchanged == 1
    assert actions_of(diff, "dnd_violation")["alert"].unchanged == 1


def test_a_rule_switched_off_in_the_candidate_disappears_entirely() -> None:
    off = RuleSet(sla_overdue=SlaOverdueRule(enabled=False))
    diff = build([occ("p1", 1, "a"), occ("p2", 9, "b")], [], candidate_rules=off)
    rule = next(r for r in diff.rules if r.rule_id == "sla_overdue")
    assert (rule.production_version, rule.candidate_version) == (1, None)
    assert [o.decision_id for o in rule.actions[0].disappear] == ["p1", "p2"]


def test_a_rule_switched_on_only_in_the_candidate_is_listed() -> None:
    builder = WhatIfBuilder()
    builder.add([], [occ("c1", 3, "a", rule_id="channel_hopping")])
    production = RuleSet(channel_hopping=ChannelHoppingRule(enabled=False))
    diff = builder.build(production, RuleSet(), hours(100))
    rule = next(r for r in diff.rules if r.rule_id == "channel_hopping")
    assert (rule.production_version, rule.candidate_version) == (None, 1)
    assert [o.decision_id for o in rule.actions[0].appear] == ["c1"]


def test_the_window_chooses_the_decisions_compared_not_the_pairing() -> None:
    window = Window(hours(100), hours(200))
    production = [
        occ("in-gone", 150, "g"),
        occ("out-gone", 50, "h"),
        occ("into", 90, "m"),  # moves into the window: compared
        occ("away", 250, "k"),  # moves, both ends out: not compared
        occ("same-in", 120, "s"),
        occ("same-out", 210, "u"),
    ]
    candidate = [
        occ("in-new", 199, "n"),
        occ("out-new", 200, "o"),  # the end is exclusive
        occ("into'", 110, "m"),
        occ("away'", 300, "k"),
        occ("same-in'", 120, "s"),
        occ("same-out'", 210, "u"),
    ]
    sla = actions_of(build(production, candidate, window), "sla_overdue")["alert"]
    assert [o.decision_id for o in sla.disappear] == ["in-gone"]
    assert [o.decision_id for o in sla.appear] == ["in-new"]
    assert [m.before.decision_id for m in sla.moved] == ["into"]
    assert sla.unchanged == 1
    # Without the window, the same pairs: the move is not mistaken for a disappearance.
    whole = actions_of(build(production, candidate), "sla_overdue")["alert"]
    assert sorted(m.before.decision_id for m in whole.moved) == ["away", "into"]
    assert whole.unchanged == 2


def test_a_window_must_start_before_it_ends() -> None:
    with pytest.raises(ValueError, match="start must come before its end"):
        Window(hours(5), hours(5))


def test_listing_order_is_deterministic_whatever_the_input_order() -> None:
    production = [occ(f"p{i}", i, f"t{i}", customer_id=f"C{i % 3}") for i in range(9)]
    a = build(production, [])
    b = build(list(reversed(production)), [])
    listed = actions_of(a, "sla_overdue")["alert"].disappear
    assert listed == actions_of(b, "sla_overdue")["alert"].disappear
    assert [o.order for o in listed] == sorted(o.order for o in listed)


# --- on real rules ------------------------------------------------------------------------


def complaints() -> list[Any]:
    day = DAY_US
    return [
        make_fact("c1", FOLD_EPOCH_US, "complaint"),
        make_fact("c2", FOLD_EPOCH_US + 3 * day, "complaint"),
        make_fact("r1", FOLD_EPOCH_US + 2 * day, "inquiry"),
        make_fact("r2", FOLD_EPOCH_US + 4 * day, "inquiry"),
    ]


def test_the_candidate_runs_the_live_rules_at_the_stream_time() -> None:
    facts = sorted(complaints())
    end = FOLD_EPOCH_US + 100 * DAY_US
    live = assess(facts, RuleSet(), CONFIG, end).decisions
    mine = candidate_decisions(facts, RuleSet(), CONFIG, end)
    assert [o.decision_id for o in mine] == [d.decision_id for d in live]
    # Deadlines the stream has not reached are not decided yet.
    early = candidate_decisions(facts, RuleSet(), CONFIG, FOLD_EPOCH_US + 4 * DAY_US)
    assert len(early) < len(mine)
    slower = RuleSet(
        sla_overdue=SlaOverdueRule(version=2, deadline_hours=72),
        repeat_request=RepeatRequestRule(version=2, threshold=5),
    )
    builder = WhatIfBuilder()
    builder.add(mine, candidate_decisions(facts, slower, CONFIG, end))
    diff = builder.build(RuleSet(), slower, end)
    sla = actions_of(diff, "sla_overdue")["alert"]
    assert len(sla.moved) == 2 and sla.median_shift_hours == pytest.approx(24.0)
    repeat = actions_of(diff, "repeat_request")["alert"]
    assert len(repeat.disappear) == 1 and not repeat.appear and not repeat.moved


def test_resolve_describes_suppressed_decisions_from_the_production_rules() -> None:
    facts = sorted(complaints())
    end = FOLD_EPOCH_US + 100 * DAY_US
    wanted = [
        d for d in assess(facts, RuleSet(), CONFIG, end).decisions if d.rule_id == "sla_overdue"
    ]
    found, missing = resolve(facts, RuleSet(), CONFIG, end, [wanted[0].decision_id, "gone"])
    assert [(o.decision_id, o.at, o.status) for o in found] == [
        (wanted[0].decision_id, wanted[0].at, "suppressed")
    ]
    assert missing == ["gone"]
