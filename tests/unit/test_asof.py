"""As-of reconstruction on hand-made facts: what was known at T, and what only arrived later."""

from __future__ import annotations

from projections.facts import DAY_US, HOUR_US, Fact
from projections.policy import ProjectionConfig
from projections.risk import RuleSet, assess
from projections.scenes import scenes_of
from replay.asof import flags_in_force, reconstruct, split_known
from tests.factories import FOLD_EPOCH_US, make_fact

RULES = RuleSet()
CONFIG = ProjectionConfig()


def at(day: float, hour: float = 0) -> int:
    return FOLD_EPOCH_US + round(day * DAY_US + hour * HOUR_US)


def late(fact: Fact, recorded: int) -> Fact:
    return fact._replace(recorded=recorded)


#: Two complaints on billing (the second occurred on day 2 but was recorded on day 6), then two
#: calls: the flag the second complaint completes exists only once it is recorded.
HISTORY = [
    make_fact("c1", at(0), "complaint", case_id="K1"),
    late(make_fact("c2", at(2), "complaint", case_id="K1"), at(6)),
    make_fact("i3", at(4), "inquiry"),
    make_fact("i4", at(7), "inquiry"),
    make_fact("i5", at(9), "inquiry"),
]


def test_split_keeps_known_and_late_apart_and_leaves_the_future_out() -> None:
    split = split_known(reversed(HISTORY), at(5))
    assert [f.event_id for f in split.known] == ["c1", "i3"]
    assert [f.event_id for f in split.late] == ["c2"]
    everything = split_known(HISTORY, at(10))
    assert [f.event_id for f in everything.known] == ["c1", "c2", "i3", "i4", "i5"]
    assert everything.late == ()


def test_a_complaint_recorded_after_t_is_late_and_completes_no_flag_at_t() -> None:
    before = reconstruct(HISTORY, at(5), RULES, CONFIG)
    assert [f.event_id for f in before.late] == ["c2"]
    assert "c2" not in {e for s in before.scenes for e in s.event_ids}
    assert before.risk.flags == ()
    assert before.risk.latest_contact is not None
    assert before.risk.latest_contact.event_id == "i3"
    assert before.risk.shown is None and before.risk.warnings == ()

    after = reconstruct(HISTORY, at(8), RULES, CONFIG)
    assert after.late == ()
    (flag,) = after.risk.flags
    assert flag.flag == "sensitive" and flag.service_type == "billing"
    assert flag.since == at(2) and flag.raised.triggers == ("c1", "c2")
    assert flag.expires_at == at(2) + 90 * DAY_US
    # The agent at the day-7 call saw the warning; the day-4 call met none.
    assert after.risk.latest_contact is not None
    assert after.risk.latest_contact.event_id == "i4"
    assert after.risk.shown is not None and after.risk.shown.triggers[0] == "i4"
    assert [w.triggers[0] for w in after.risk.warnings] == ["i4"]


def test_risk_at_t_is_the_rules_over_the_known_facts_at_stream_time_t() -> None:
    for moment in (at(1), at(5), at(6), at(8), at(9.5)):
        state = reconstruct(HISTORY, moment, RULES, CONFIG)
        expected = assess(list(state.known), RULES, CONFIG, moment).decisions
        got = {d.decision_id for d in (*state.risk.alerts, *state.risk.warnings)}
        got |= {d.decision_id for d in state.risk.flag_changes}
        assert got == {d.decision_id for d in expected}


def test_an_sla_deadline_passed_by_t_raises_its_alert_only_when_the_answer_was_unknown() -> None:
    complaint = make_fact("c", at(0), "complaint", case_id="K9")
    answer = make_fact("r", at(1, 10), "case_resolved", case_id="K9", parent="c")
    in_time = reconstruct([complaint, answer], at(3), RULES, CONFIG)
    assert [a.rule_id for a in in_time.risk.alerts] == []
    reported_late = reconstruct([complaint, late(answer, at(4))], at(3), RULES, CONFIG)
    assert [a.rule_id for a in reported_late.risk.alerts] == ["sla_overdue"]
    assert [f.event_id for f in reported_late.late] == ["r"]


def test_flags_in_force_replays_raise_renew_and_expiry() -> None:
    rules = RuleSet.model_validate({"sensitive_customer": {"expiry_days": 10}})
    facts = [
        make_fact("c1", at(0), "complaint"),
        make_fact("c2", at(1), "complaint"),
        make_fact("c3", at(8), "complaint"),
        make_fact("c4", at(30), "complaint"),
        make_fact("c5", at(31), "complaint"),
    ]
    decisions = assess(facts, rules, CONFIG, at(100)).decisions
    expiry = 10 * DAY_US
    assert flags_in_force(decisions, at(0.5), expiry) == ()
    (renewed,) = flags_in_force(decisions, at(9), expiry)
    assert renewed.since == at(1) and [r.triggers for r in renewed.renewals] == [("c3",)]
    assert renewed.expires_at == at(18)
    assert flags_in_force(decisions, at(20), expiry) == ()
    (again,) = flags_in_force(decisions, at(32), expiry)
    assert again.raised.triggers == ("c4", "c5") and again.renewals == ()


def test_scenes_at_t_are_the_fold_of_the_known_facts_shared_with_the_rules() -> None:
    # At day 5 no warning (the rules never needed the scenes); at day 8 the day-7 call was
    # warned, so the rules folded them and the reconstruction reuses that fold.
    for moment in (at(5), at(8)):
        state = reconstruct(HISTORY, moment, RULES, CONFIG)
        assert state.scenes == tuple(scenes_of(state.known, CONFIG.scenes, CONFIG.costs))
        episodes = {scene.episode_id for scene in state.scenes}
        assert all(set(w.episodes) <= episodes for w in state.risk.warnings)
        assert bool(state.risk.warnings) == (moment == at(8))
