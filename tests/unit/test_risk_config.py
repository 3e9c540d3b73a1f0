"""Risk rules' configuration: ``load_rules`` over the defaults, switches and loud failures."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from events.errors import ConfigurationError
from events.taxonomy import Kind
from projections.facts import DAY_US, HOUR_US, Fact, in_event_time_order
from projections.policy import ProjectionConfig
from projections.risk import RuleSet, assess, load_rules
from projections.risk.config import (
    AgentWarningRule,
    ChannelHoppingRule,
    DndViolationRule,
    RepeatRequestRule,
    SensitiveCustomerRule,
    SlaOverdueRule,
)
from tests.factories import FOLD_EPOCH_US, make_fact

ALL_RULES = {
    "repeat_request",
    "sensitive_customer",
    "agent_warning",
    "channel_hopping",
    "sla_overdue",
    "dnd_violation",
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def at(day: float, hour: float = 0) -> int:
    return FOLD_EPOCH_US + round(day * DAY_US + hour * HOUR_US)


def rule_ids(facts: list[Fact], rules: RuleSet) -> set[str]:
    decisions = assess(in_event_time_order(facts), rules, ProjectionConfig(), at(10_000))
    return {d.rule_id for d in decisions.decisions}


def everything() -> list[Fact]:
    """A history on which every default rule decides something."""
    return [
        make_fact("c1", at(0, 10), "complaint", "phone"),
        make_fact("q1", at(0, 20), "inquiry", "email"),
        make_fact("c2", at(1, 9), "complaint", "chat"),
        make_fact("o1", at(1, 12), "callback", "phone", offset_minutes=480),
        make_fact("q2", at(3, 10), "inquiry", "phone"),
    ]


# -- defaults and values -----------------------------------------------------------------------


def test_no_file_gives_the_defaults() -> None:
    rules = load_rules(None)

    assert rules == RuleSet()
    assert rules.versions() == dict.fromkeys(ALL_RULES, 1)
    assert rule_ids(everything(), rules) == ALL_RULES


def test_defaults_match_the_documented_ones() -> None:
    rules = RuleSet()

    assert rules.repeat_request.threshold == 3
    assert rules.repeat_request.window_hours == 168
    assert rules.repeat_request.kinds == {
        Kind.SERVICE_REQUEST,
        Kind.INQUIRY,
        Kind.COMPLAINT,
        Kind.REPORT,
    }
    assert (
        rules.sensitive_customer.threshold,
        rules.sensitive_customer.window_days,
        rules.sensitive_customer.max_score,
        rules.sensitive_customer.expiry_days,
    ) == (2, 30, 2, 90)
    assert rules.agent_warning.not_contacts == {Kind.FEEDBACK, Kind.SELF_SERVICE}
    assert (rules.channel_hopping.threshold, rules.channel_hopping.window_hours) == (3, 48)
    assert rules.sla_overdue.deadline_hours == 48
    assert rules.sla_overdue.severity == "critical"
    assert rules.agent_warning.severity == "info"
    assert rules.repeat_request.severity == "warning"


def test_file_values_override_the_defaults_of_their_rule_only(tmp_path: Path) -> None:
    rules = load_rules(
        write(
            tmp_path,
            """
            [rules.repeat_request]
            version = 2
            threshold = 4
            """,
        )
    )

    assert rules.repeat_request.version == 2
    assert rules.repeat_request.threshold == 4
    assert rules.repeat_request.window_hours == 168
    assert rules.repeat_request.kinds == RepeatRequestRule().kinds
    assert rules.sensitive_customer == SensitiveCustomerRule()
    assert rules.agent_warning == AgentWarningRule()
    assert rules.channel_hopping == ChannelHoppingRule()
    assert rules.sla_overdue == SlaOverdueRule()
    assert rules.dnd_violation == DndViolationRule()
    assert rules.versions() == {**dict.fromkeys(ALL_RULES, 1), "repeat_request": 2}


def test_every_documented_key_loads(tmp_path: Path) -> None:
    rules = load_rules(
        write(
            tmp_path,
            """
            [rules.repeat_request]
            version = 3
            threshold = 5
            window_hours = 72.5
            kinds = ["inquiry", "report"]
            severity = "critical"

            [rules.sensitive_customer]
            threshold = 3
            window_days = 14
            max_score = 1
            expiry_days = 60

            [rules.agent_warning]
            not_contacts = ["feedback"]

            [rules.channel_hopping]
            threshold = 2
            window_hours = 24

            [rules.sla_overdue]
            deadline_hours = 24

            [rules.dnd_violation]
            severity = "info"
            """,
        )
    )

    assert rules.repeat_request == RepeatRequestRule(
        version=3,
        threshold=5,
        window_hours=72.5,
        kinds=frozenset({Kind.INQUIRY, Kind.REPORT}),
        severity="critical",
    )
    assert rules.sensitive_customer == SensitiveCustomerRule(
        threshold=3, window_days=14, max_score=1, expiry_days=60
    )
    assert rules.agent_warning.not_contacts == {Kind.FEEDBACK}
    assert rules.channel_hopping == ChannelHoppingRule(threshold=2, window_hours=24)
    assert rules.sla_overdue.deadline_hours == 24
    assert rules.dnd_violation.severity == "info"


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    assert load_rules(write(tmp_path, "")) == RuleSet()
    assert load_rules(write(tmp_path, "[rules]\n")) == RuleSet()


def test_loaded_threshold_changes_what_the_rule_decides(tmp_path: Path) -> None:
    facts = [make_fact(f"q{i}", at(i, 10)) for i in range(3)]
    four = load_rules(write(tmp_path, "[rules.repeat_request]\nthreshold = 4\n"))

    assert "repeat_request" in rule_ids(facts, RuleSet())
    assert "repeat_request" not in rule_ids(facts, four)
    assert "repeat_request" in rule_ids([*facts, make_fact("q3", at(3, 10))], four)


# -- switches ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ALL_RULES))
def test_enabled_false_switches_a_rule_off(tmp_path: Path, name: str) -> None:
    rules = load_rules(write(tmp_path, f"[rules.{name}]\nenabled = false\n"))

    assert not getattr(rules, name).enabled
    assert name not in rules.versions()
    assert set(rules.versions()) == ALL_RULES - {name}
    decided = rule_ids(everything(), rules)
    assert name not in decided
    # Agent warnings need the sensitive flag; every other rule stands alone.
    gone = {name, "agent_warning"} if name == "sensitive_customer" else {name}
    assert decided == ALL_RULES - gone


def test_all_rules_off_decide_nothing() -> None:
    off = {name: {"enabled": False} for name in ALL_RULES}
    rules = RuleSet.model_validate(off)

    assert rules.versions() == {}
    assert rule_ids(everything(), rules) == set()


def test_rules_are_frozen() -> None:
    rules = RuleSet()

    with pytest.raises(ValidationError):
        rules.repeat_request.threshold = 9


# -- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[rules.repeat_request]\nthreshold = 1\n", "rules.repeat_request.threshold"),
        ("[rules.repeat_request]\nkinds = ['inquiry', 'shouting']\n", "rules.repeat_request.kinds"),
        ("[rules.repeat_request]\nthreshhold = 4\n", "rules.repeat_request.threshhold"),
        ("[rules.repeat_request]\nversion = 0\n", "rules.repeat_request.version"),
        ("[rules.repeat_request]\nwindow_hours = 0\n", "rules.repeat_request.window_hours"),
        ("[rules.repeat_request]\nseverity = 'loud'\n", "rules.repeat_request.severity"),
        ("[rules.repeat_request]\nenabled = 'maybe'\n", "rules.repeat_request.enabled"),
        ("[rules.sensitive_customer]\nmax_score = 6\n", "rules.sensitive_customer.max_score"),
        ("[rules.sensitive_customer]\nthreshold = 0\n", "rules.sensitive_customer.threshold"),
        ("[rules.sensitive_customer]\nexpiry_days = -1\n", "rules.sensitive_customer.expiry_days"),
        ("[rules.channel_hopping]\nthreshold = 1\n", "rules.channel_hopping.threshold"),
        ("[rules.sla_overdue]\ndeadline_hours = 0\n", "rules.sla_overdue.deadline_hours"),
        ("[rules.agent_warning]\nnot_contacts = ['nap']\n", "rules.agent_warning.not_contacts"),
        ("[rules.dnd_violation]\nwindows = []\n", "rules.dnd_violation.windows"),
        ("[rules.loud_customer]\nthreshold = 2\n", "rules.loud_customer"),
        ("[rules]\nrepeat_request = 3\n", "rules.repeat_request"),
    ],
)
def test_invalid_values_name_the_offending_key(tmp_path: Path, text: str, names: str) -> None:
    path = write(tmp_path, text)

    with pytest.raises(ConfigurationError) as caught:
        load_rules(path)

    message = str(caught.value)
    assert names in message
    assert str(path) in message


def test_several_problems_are_all_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[rules.repeat_request]\nthreshold = 1\n[rules.sla_overdue]\ndeadline_hours = 0\n",
    )

    with pytest.raises(ConfigurationError) as caught:
        load_rules(path)

    assert "rules.repeat_request.threshold" in str(caught.value)
    assert "rules.sla_overdue.deadline_hours" in str(caught.value)


def test_unknown_top_level_table_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "[rules.repeat_request]\nthreshold = 4\n\n[projections]\nx = 1\n")

    with pytest.raises(ConfigurationError, match=r"unknown top-level keys \['projections'\]"):
        load_rules(path)


def test_bad_toml_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "[rules.repeat_request\nthreshold = \n")

    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_rules(path)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read rules"):
        load_rules(tmp_path / "absent.toml")
