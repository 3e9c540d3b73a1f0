"""Contact-policy compliance: do-not-disturb windows and the silence rule, pure and incremental."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.taxonomy import CUSTOMER_INITIATED_KINDS, Channel, Kind
from projections.compliance import (
    DND_WINDOW,
    SILENCE_REAL_TIME,
    ComplianceFold,
    Violation,
    violations_of,
)
from projections.facts import DAY_US, HOUR_US, MINUTE_US, Fact, in_event_time_order
from projections.policy import ContactPolicy, Window
from tests.factories import FOLD_EPOCH_US, arrival_histories, make_fact

EPOCH_US = FOLD_EPOCH_US
_CUSTOMER_KINDS = frozenset(kind.value for kind in CUSTOMER_INITIATED_KINDS)
DEFAULT = ContactPolicy()


def at(day: int, hour: int = 0, minute: int = 0) -> int:
    """UTC microseconds ``day`` days after the epoch Monday, at ``hour:minute`` UTC."""
    return EPOCH_US + day * DAY_US + hour * HOUR_US + minute * MINUTE_US


def fact(
    event_id: str, occurred: int, kind: str = "notification_sent", *args: str, **fields: Any
) -> Fact:
    """A fact at ``occurred``; see :func:`make_fact`."""
    return make_fact(event_id, occurred, kind, *args, **fields)


def rules(facts: list[Fact], policy: ContactPolicy = DEFAULT) -> list[tuple[str, str]]:
    return [(v.event_id, v.rule) for v in violations_of(facts, policy)]


def dnd(facts: list[Fact], policy: ContactPolicy = DEFAULT) -> list[Violation]:
    return [v for v in violations_of(facts, policy) if v.rule == DND_WINDOW]


def silence(facts: list[Fact], policy: ContactPolicy = DEFAULT) -> list[Violation]:
    return [v for v in violations_of(facts, policy) if v.rule == SILENCE_REAL_TIME]


# -- do-not-disturb windows --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "minute", "allowed"),
    [
        (9, 29, False),
        (9, 30, True),  # start inclusive
        (11, 59, True),
        (12, 0, False),  # end exclusive
        (13, 59, False),
        (14, 0, True),
        (17, 29, True),
        (17, 30, False),
        (3, 0, False),
        (23, 59, False),
    ],
)
def test_dnd_window_boundaries(hour: int, minute: int, allowed: bool) -> None:
    found = dnd([fact("o", at(0, hour, minute))])
    assert (found == []) is allowed


def test_dnd_boundaries_to_the_microsecond() -> None:
    assert dnd([fact("o", at(0, 9, 30) - 1)]) != []
    assert dnd([fact("o", at(0, 12, 0) - 1)]) == []


def test_dnd_violation_carries_local_time_and_reason() -> None:
    [violation] = violations_of([fact("o", at(0, 8, 5), "callback")], DEFAULT)
    assert violation == Violation(
        event_id="o",
        customer_id="C1",
        rule=DND_WINDOW,
        occurred_at=at(0, 8, 5),
        local_time="2026-01-05 08:05 Mon UTC+0000",
        channel="phone",
        kind="callback",
        detail="08:05 local is outside 09:30-12:00, 14:00-17:30",
    )


@pytest.mark.parametrize(("day", "name"), [(5, "Saturday"), (6, "Sunday")])
def test_weekend_is_outside(day: int, name: str) -> None:
    [violation] = dnd([fact("o", at(day, 10))])
    assert violation.detail == f"{name} is not a working day"


def test_configured_working_days() -> None:
    policy = ContactPolicy(working_days=frozenset({1, 2, 3, 4, 5, 6}))
    assert dnd([fact("o", at(5, 10))], policy) == []
    assert dnd([fact("o", at(6, 10))], policy) != []


def test_holiday_is_outside() -> None:
    policy = ContactPolicy(holidays=frozenset({date(2026, 1, 6)}))
    [violation] = dnd([fact("o", at(1, 10))], policy)
    assert violation.detail == "2026-01-06 is a holiday"
    assert dnd([fact("o", at(2, 10))], policy) == []


def test_holiday_is_judged_on_the_local_date() -> None:
    policy = ContactPolicy(holidays=frozenset({date(2026, 1, 6)}))
    # Monday 19:30 UTC is Tuesday 09:30 at UTC+14: the holiday.
    [violation] = dnd([fact("o", at(0, 19, 30), offset_minutes=14 * 60)], policy)
    assert "holiday" in violation.detail
    # Tuesday 02:00 UTC is Monday 16:00 at UTC-10: an ordinary working afternoon.
    assert dnd([fact("o", at(1, 2), offset_minutes=-10 * 60)], policy) == []


def test_configured_windows() -> None:
    policy = ContactPolicy(windows=(Window(start=time(8), end=time(20)),))
    assert dnd([fact("o", at(0, 8))], policy) == []
    assert dnd([fact("o", at(0, 12, 30))], policy) == []
    [violation] = dnd([fact("o", at(0, 20))], policy)
    assert violation.detail == "20:00 local is outside 08:00-20:00"


@pytest.mark.parametrize("kind", ["outage_notice", "field_visit"])
def test_exempt_kinds_any_hour(kind: str) -> None:
    assert violations_of([fact("o", at(0, 3), kind, "field")], DEFAULT) == []
    assert violations_of([fact("o", at(5, 23), kind, "phone")], DEFAULT) == []


@pytest.mark.parametrize("channel", ["letter", "other"])
def test_exempt_channels_any_hour(channel: str) -> None:
    assert violations_of([fact("o", at(0, 3), "notification_sent", channel)], DEFAULT) == []


def test_exemptions_are_configurable() -> None:
    policy = ContactPolicy(exempt_kinds=frozenset(), exempt_channels=frozenset({Channel.SMS}))
    assert dnd([fact("o", at(0, 3), "outage_notice")], policy) != []
    assert dnd([fact("o", at(0, 3), "notification_sent", "letter")], policy) != []
    assert dnd([fact("o", at(0, 3), "notification_sent", "sms")], policy) == []


def test_inbound_and_internal_are_never_checked() -> None:
    facts = [
        fact("i", at(0, 3), "inquiry", "phone"),
        fact("n", at(0, 3, 5), "case_assigned", "phone", direction="internal"),
        fact("s", at(5, 23), "complaint", "phone"),
    ]
    assert violations_of(facts, DEFAULT) == []


# -- which clock is local ----------------------------------------------------------------------


def test_local_policy_uses_the_facts_own_offset() -> None:
    # 02:00 UTC is 10:00 at UTC+08:00.
    assert dnd([fact("o", at(0, 2), offset_minutes=480)]) == []
    [violation] = dnd([fact("o", at(0, 2), offset_minutes=0)])
    assert violation.local_time == "2026-01-05 02:00 Mon UTC+0000"


def test_local_offset_can_move_the_weekday() -> None:
    # Monday 01:00 UTC is Sunday 20:00 at UTC-05:00.
    [violation] = dnd([fact("o", at(0, 1), offset_minutes=-300)])
    assert violation.detail == "Sunday is not a working day"
    assert violation.local_time == "2026-01-04 20:00 Sun UTC-0500"


def test_policy_zone_overrides_the_fact_offset() -> None:
    shanghai = ContactPolicy(timezone="Asia/Shanghai")
    # Recorded at UTC: 02:00 UTC is outside locally, 10:00 in Shanghai.
    assert dnd([fact("o", at(0, 2))]) != []
    assert dnd([fact("o", at(0, 2))], shanghai) == []
    # Recorded at +08:00 (18:00 there), but the policy zone says London, 10:00.
    london = ContactPolicy(timezone="Europe/London")
    assert dnd([fact("o", at(0, 10), offset_minutes=480)]) != []
    assert dnd([fact("o", at(0, 10), offset_minutes=480)], london) == []


def test_policy_zone_follows_daylight_saving() -> None:
    berlin = ContactPolicy(timezone="Europe/Berlin")
    # 07:45 UTC is 08:45 CET in January (too early) ...
    [violation] = dnd([fact("o", at(0, 7, 45))], berlin)
    assert violation.local_time == "2026-01-05 08:45 Mon UTC+0100"
    # ... and 09:45 CEST on Monday 30 March 2026, after the switch.
    march_30 = (date(2026, 3, 30) - date(2026, 1, 5)).days
    assert dnd([fact("o", at(march_30, 7, 45))], berlin) == []


def test_reported_customer_zone_wins_over_policy_zone() -> None:
    shanghai = ContactPolicy(timezone="Asia/Shanghai")
    # 15:00 UTC: 23:00 in Shanghai, 10:00 in New York.
    reported = fact("o", at(0, 15), customer_tz="America/New_York")
    assert dnd([reported], shanghai) == []
    assert dnd([reported._replace(customer_tz=None)], shanghai) != []
    # It also wins over the fact's own offset under a "local" policy.
    assert dnd([reported._replace(offset_minutes=480)]) == []


def test_reported_zone_applies_to_later_facts() -> None:
    facts = [
        fact("i", at(0, 18), "inquiry", customer_tz="America/New_York"),
        fact("o", at(0, 19)),  # no zone of its own: 14:00 in New York, 19:00 UTC
    ]
    assert dnd(facts) == []
    assert dnd(facts[1:]) != []


def test_unknown_reported_zone_falls_back_to_the_policy() -> None:
    shanghai = ContactPolicy(timezone="Asia/Shanghai")
    unknown = fact("o", at(0, 2), customer_tz="Atlantis/Capital")
    assert dnd([unknown], shanghai) == []  # 10:00 in Shanghai
    assert dnd([unknown]) != []  # the fact's own offset: 02:00 UTC


# -- silence before a real-time contact --------------------------------------------------------


def test_ninety_days_of_silence_then_a_call() -> None:
    start = fact("i", at(0, 10), "inquiry")
    [violation] = silence([start, fact("o", at(90, 10))])
    assert violation.event_id == "o"
    assert violation.detail == "first contact after 90 days of silence is a real-time phone contact"


def test_silence_boundary() -> None:
    start = fact("i", at(0, 10), "inquiry")
    assert silence([start, fact("o", at(89, 10))]) == []
    assert silence([start, fact("o", at(90, 10) - 1)]) == []
    assert silence([start, fact("o", at(90, 10))]) != []


@pytest.mark.parametrize("channel", ["sms", "email", "letter", "app"])
def test_silence_broken_by_a_message_is_fine(channel: str) -> None:
    start = fact("i", at(0, 10), "inquiry")
    assert silence([start, fact("o", at(120, 10), "notification_sent", channel)]) == []


@pytest.mark.parametrize("channel", ["phone", "ivr", "video", "field", "counter"])
def test_every_real_time_channel_counts(channel: str) -> None:
    start = fact("i", at(0, 10), "inquiry")
    assert silence([start, fact("o", at(120, 10), "callback", channel)]) != []


def test_internal_records_do_not_break_silence() -> None:
    facts = [
        fact("i", at(0, 10), "inquiry"),
        fact("n", at(60, 10), "case_assigned", direction="internal"),
        fact("o", at(95, 10)),
    ]
    [violation] = silence(facts)
    assert violation.detail.startswith("first contact after 95 days")


def test_any_contact_breaks_silence() -> None:
    outbound_message = [
        fact("i", at(0, 10), "inquiry"),
        fact("m", at(60, 10), "notification_sent", "email"),
        fact("o", at(95, 10)),
    ]
    assert silence(outbound_message) == []
    inbound = [
        fact("m", at(0, 10), "notification_sent", "email"),
        fact("i", at(60, 10), "inquiry", "web"),
        fact("o", at(95, 10)),
    ]
    assert silence(inbound) == []


def test_no_previous_contact_no_silence() -> None:
    assert silence([fact("o", at(0, 10))]) == []
    only_internal = [
        fact("n", at(0, 10), "case_opened", direction="internal"),
        fact("o", at(200, 10)),
    ]
    assert silence(only_internal) == []


def test_inbound_after_silence_is_not_a_violation() -> None:
    facts = [fact("m", at(0, 10), "notification_sent", "email"), fact("i", at(200, 3), "inquiry")]
    assert violations_of(facts, DEFAULT) == []


def test_exempt_kind_skips_the_silence_rule_too() -> None:
    # Documented behaviour: exempt kinds are not checked at all (an outage notice must go out).
    facts = [fact("i", at(0, 10), "inquiry"), fact("o", at(120, 10), "outage_notice")]
    assert violations_of(facts, DEFAULT) == []


def test_configured_silence_days() -> None:
    policy = ContactPolicy(silence_days=30)
    start = fact("i", at(0, 10), "inquiry")
    assert silence([start, fact("o", at(29, 10))], policy) == []
    assert silence([start, fact("o", at(30, 10))], policy) != []


def test_one_call_can_break_both_rules_in_rule_order() -> None:
    facts = [fact("i", at(0, 10), "inquiry"), fact("o", at(100, 3))]
    assert rules(facts) == [("o", DND_WINDOW), ("o", SILENCE_REAL_TIME)]


def test_violations_come_in_event_time_order() -> None:
    facts = [
        fact("a", at(0, 3)),
        fact("b", at(0, 10)),
        fact("c", at(0, 13)),
        fact("d", at(5, 10), "callback"),
    ]
    assert rules(facts) == [("a", DND_WINDOW), ("c", DND_WINDOW), ("d", DND_WINDOW)]


# -- the incremental fold ----------------------------------------------------------------------


def test_fold_grows_incrementally_and_restarts_on_late_arrivals() -> None:
    a = fact("a", at(0, 3))
    b = fact("b", at(1, 10), "inquiry")
    c = fact("c", at(100, 10))
    late = fact("late", at(50, 10), "notification_sent", "email")
    fold = ComplianceFold(DEFAULT)
    assert [v.event_id for v in fold.violations([a])] == ["a"]
    assert [(v.event_id, v.rule) for v in fold.violations([a, b, c])] == [
        ("a", DND_WINDOW),
        ("c", SILENCE_REAL_TIME),
    ]
    # The late email breaks the silence: the call is no longer a violation.
    history = in_event_time_order([a, b, c, late])
    assert fold.violations(history) == violations_of(history, DEFAULT)
    assert [v.event_id for v in fold.violations(history)] == ["a"]
    # An empty history has no violations, and the fold recovers from it.
    assert fold.violations([]) == []
    assert fold.violations([a]) == violations_of([a], DEFAULT)


_ZONES = [None, None, None, "Asia/Shanghai", "America/New_York", "Europe/Berlin", "No/Such_Zone"]
_POLICIES = [
    DEFAULT,
    ContactPolicy(timezone="Europe/Berlin", holidays=frozenset({date(2026, 1, 6)})),
    ContactPolicy(silence_days=10, working_days=frozenset({1, 2, 3, 4, 5, 6, 7})),
]


# Strategies built once: building them per draw costs more than the fold under test.
_STEP = st.one_of(
    st.integers(0, 12 * HOUR_US),
    st.integers(1, 120).map(lambda days: days * DAY_US),
    st.sampled_from([10 * DAY_US, 90 * DAY_US, 90 * DAY_US - 1]),
)
_KIND = st.sampled_from([kind.value for kind in Kind])
_DIRECTION = st.sampled_from(["outbound", "outbound", "internal", "inbound"])
_CHANNEL = st.sampled_from([channel.value for channel in Channel])
_OFFSET = st.sampled_from([0, 60, 480, -300, -600, 840])
_ZONE = st.sampled_from(_ZONES)
_RECORDED_LAG = st.integers(0, DAY_US)
_DELAY = st.sampled_from([0, 0, 0, 0, 1, 3, 10])
_CHUNK = st.integers(1, 3)


@st.composite
def histories(draw: st.DrawFn) -> list[Fact]:
    count = draw(st.integers(1, 30))
    occurred = EPOCH_US
    facts = []
    for index in range(count):
        occurred += draw(_STEP)
        kind = draw(_KIND)
        direction = "inbound" if kind in _CUSTOMER_KINDS else draw(_DIRECTION)
        facts.append(
            fact(
                f"e{index:02d}",
                occurred,
                kind,
                draw(_CHANNEL),
                direction=direction,
                offset_minutes=draw(_OFFSET),
                customer_tz=draw(_ZONE),
            )._replace(recorded=occurred + draw(_RECORDED_LAG))
        )
    return facts


def _arrivals(data: st.DataObject, facts: list[Fact]) -> list[list[Fact]]:
    return arrival_histories(data, facts, _DELAY, _CHUNK)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(facts=histories(), policy=st.sampled_from(_POLICIES), data=st.data())
def test_incremental_fold_equals_the_definition(
    facts: list[Fact], policy: ContactPolicy, data: st.DataObject
) -> None:
    fold = ComplianceFold(policy)
    for history in _arrivals(data, facts):
        expected = violations_of(history, policy)
        assert fold.violations(history) == expected
        # Asking again without change gives the same answer.
        assert fold.violations(history) == expected
        by_id = {f.event_id: f for f in history}
        keys = [(v.event_id, v.rule) for v in expected]
        assert len(keys) == len(set(keys))
        for violation in expected:
            checked = by_id[violation.event_id]
            assert checked.direction == "outbound"
            assert checked.kind not in policy.exempt_kinds
            if violation.rule == DND_WINDOW:
                assert checked.channel not in policy.exempt_channels
            else:
                assert checked.channel in policy.real_time_channels
        # Violations follow event-time order.
        positions = [history.index(by_id[v.event_id]) for v in expected]
        assert positions == sorted(positions)
