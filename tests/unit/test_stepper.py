"""The step-through: each step's state equals the folds over the prefix it stands for."""

from __future__ import annotations

from collections import defaultdict

import pytest

from events.identity import IdentifierHasher
from events.intake import Intake
from events.keys.memory import MemoryKeyStore
from events.personal import PersonalVault
from projections.facts import DAY_US, HOUR_US, Fact, in_event_time_order
from projections.policy import ProjectionConfig
from projections.risk import RuleSet, assess
from projections.scenes import scenes_of
from replay.stepper import Step, step_through
from services.generate import generate
from tests.factories import BASE_TIME, FOLD_EPOCH_US, fact_of, make_fact

RULES = RuleSet()
CONFIG = ProjectionConfig()


@pytest.fixture(scope="module")
def histories() -> dict[str, list[Fact]]:
    """Generated customers' histories (event-time order), those with the most decisions."""
    intake = Intake(IdentifierHasher(b"s" * 16), PersonalVault(MemoryKeyStore()), lambda: BASE_TIME)
    by_customer: dict[str, list[Fact]] = defaultdict(list)
    for record in generate(40, 45, 5):
        fact = fact_of(intake.touchpoint(record))
        by_customer[fact.customer_id].append(fact)
    ranked = sorted(
        by_customer,
        key=lambda c: (
            -len(assess(in_event_time_order(by_customer[c]), RULES, CONFIG, 2**62).decisions)
        ),
    )
    return {c: in_event_time_order(by_customer[c]) for c in ranked[:8]}


def prefix_ids(facts: list[Fact], step: Step) -> set[str]:
    """The decisions the rules make on steps 1..k, due by step k's event time."""
    prefix = facts[: step.number]
    return {d.decision_id for d in assess(prefix, RULES, CONFIG, step.moment).decisions}


def test_every_step_equals_the_rules_and_scenes_over_its_prefix(
    histories: dict[str, list[Fact]],
) -> None:
    rules_seen: set[str] = set()
    for facts in histories.values():
        steps = list(step_through(facts, RULES, CONFIG))
        assert [s.fact for s in steps] == facts
        assert [s.number for s in steps] == list(range(1, len(facts) + 1))
        for step in steps:
            prefix = facts[: step.number]
            assert {d.decision_id for d in step.so_far} == prefix_ids(facts, step)
            episode = next(
                s
                for s in scenes_of(prefix, CONFIG.scenes, CONFIG.costs)
                if step.fact.event_id in s.event_ids
            )
            assert step.scene == episode
            rules_seen.update(d.rule_id for d in step.new)
    # The generated data exercises the rules this equivalence matters for.
    assert {"repeat_request", "sla_overdue", "sensitive_customer", "agent_warning"} <= rules_seen


def test_new_decisions_are_the_difference_between_consecutive_steps(
    histories: dict[str, list[Fact]],
) -> None:
    facts = next(iter(histories.values()))
    previous: set[str] = set()
    for step in step_through(facts, RULES, CONFIG):
        now = {d.decision_id for d in step.so_far}
        assert {d.decision_id for d in step.new} == now - previous
        assert previous <= now
        previous = now


def at(day: float, hour: float = 0) -> int:
    return FOLD_EPOCH_US + round(day * DAY_US + hour * HOUR_US)


def late(fact: Fact, recorded: int) -> Fact:
    return fact._replace(recorded=recorded)


def test_a_late_complaint_is_marked_and_its_decisions_wait_for_its_recording() -> None:
    facts = [
        make_fact("c1", at(0), "complaint", service_type="billing"),
        # Occurred on day 2, recorded on day 6: the flag it completes is decided on day 6.
        late(make_fact("c2", at(2), "complaint", service_type="billing"), at(6)),
        make_fact("i3", at(4), "inquiry", service_type="billing"),
        make_fact("i4", at(7), "inquiry", service_type="billing"),
    ]
    steps = list(step_through(facts, RULES, CONFIG))
    c2, i3, i4 = steps[1], steps[2], steps[3]
    assert c2.late_by == at(6) - at(2)
    assert c2.known_at_step == 4  # the first step at or after day 6
    assert steps[0].late_by is None and steps[0].known_at_step == 1
    assert c2.flags == () and i3.flags == ()
    raised = [d for d in i4.new if d.action == "flag_raised"]
    assert [d.triggers for d in raised] == [("c1", "c2")]
    assert [f.raised.decision_id for f in i4.flags] == [raised[0].decision_id]
    # The contact on day 4 met no warning: the flag was not known then.
    assert i3.warning is None
    assert i4.warning is not None and i4.warning.triggers[0] == "i4"


def test_flags_lapse_at_their_expiry_even_before_the_expiry_is_revealed() -> None:
    rules = RuleSet.model_validate({"sensitive_customer": {"expiry_days": 10}})
    facts = [
        make_fact("c1", at(0), "complaint"),
        make_fact("c2", at(1), "complaint"),
        make_fact("i3", at(5), "inquiry"),
        make_fact("i4", at(20), "inquiry"),
    ]
    steps = list(step_through(facts, rules, CONFIG))
    assert [bool(s.flags) for s in steps] == [False, True, True, False]
    assert steps[1].flags[0].expires_at == at(11)
    assert any(d.action == "flag_expired" for d in steps[3].new)


def test_the_browser_moves_as_scripted_keys_say() -> None:
    from services.replay_view import HELP, browse

    facts = [make_fact(f"f{n}", at(n), "inquiry") for n in range(5)]
    steps = list(step_through(facts, RULES, CONFIG))
    keys = iter(["b", "n", "\r", "j", "j", "j", "n", "n", "n", "n", "x", "q", "n"])
    answers = iter(["5", "nonsense", "2026-01-06T12:00"])
    screens: list[int] = []
    said: list[str] = []

    result = browse(steps, screens.append, lambda: next(keys), lambda _: next(answers), said.append)

    # b at the first step stays; n, Enter; jump to 5, a bad answer stays, jump to day 1.5.
    assert list(result.shown) == screens == [0, 1, 2, 4, 1, 2, 3, 4]
    assert said == [
        "this is the first step",
        "no step 'nonsense': give a step number shown, or an ISO moment",
        "this is the last step",
        HELP,
    ]
    assert next(keys) == "n"  # q stopped the loop before the last key


def test_the_browser_stops_when_the_keys_end() -> None:
    from services.replay_view import browse

    steps = list(step_through([make_fact("f", at(0))], RULES, CONFIG))
    keys = iter(["n", ""])
    result = browse(steps, lambda _: None, lambda: next(keys), lambda _: "", lambda _: None)
    assert result.shown == (0,) and result.messages == ("this is the last step",)
