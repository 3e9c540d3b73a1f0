"""Service scenes: chaining, scene metrics, pairing, episode ids and the incremental fold."""

from __future__ import annotations

import uuid
from collections import Counter
from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from events.taxonomy import CUSTOMER_INITIATED_KINDS, REQUEST_KINDS, Channel, Kind, Outcome
from projections.facts import DAY_US, HOUR_US, MINUTE_US, Fact, in_event_time_order
from projections.policy import ScenePolicy, UnitCosts
from projections.scenes import (
    EPISODE_NAMESPACE,
    Handoff,
    Pairing,
    Scene,
    SceneFold,
    chain_episodes,
    episode_id,
    scenes_of,
)
from tests.factories import FOLD_EPOCH_US, arrival_histories, make_fact

EPOCH_US = FOLD_EPOCH_US
_CUSTOMER_KINDS = frozenset(kind.value for kind in CUSTOMER_INITIATED_KINDS)
_REQUESTS = frozenset(kind.value for kind in REQUEST_KINDS)
POLICY = ScenePolicy()
COSTS = UnitCosts()


def t(minutes: float = 0, us: int = 0) -> int:
    """UTC microseconds ``minutes`` (plus ``us``) after the epoch Monday."""
    return EPOCH_US + round(minutes * MINUTE_US) + us


def fact(event_id: str, minutes: float = 0, *args: str, us: int = 0, **fields: Any) -> Fact:
    """A fact ``minutes`` (plus ``us``) after the epoch Monday; see :func:`make_fact`."""
    return make_fact(event_id, t(minutes, us), *args, **fields)


DAY = 24 * 60  # minutes
GAP = 7 * DAY


def scenes(
    facts: list[Fact], policy: ScenePolicy = POLICY, costs: UnitCosts = COSTS
) -> list[Scene]:
    return scenes_of(in_event_time_order(facts), policy, costs)


def groups(facts: list[Fact], policy: ScenePolicy = POLICY) -> list[tuple[str, ...]]:
    return [scene.event_ids for scene in scenes(facts, policy)]


def only(facts: list[Fact], policy: ScenePolicy = POLICY, costs: UnitCosts = COSTS) -> Scene:
    [scene] = scenes(facts, policy, costs)
    return scene


# -- chaining ----------------------------------------------------------------------------------


def test_case_link_joins_across_any_gap() -> None:
    facts = [
        fact("a", 0, case_id="K1"),
        fact("b", 30 * DAY),  # unlinked, far beyond the gap: a new episode
        fact("c", 40 * DAY, "case_resolved", case_id="K1"),
    ]
    assert groups(facts) == [("a", "c"), ("b",)]


def test_parent_link_joins_across_gap_and_service_type() -> None:
    facts = [
        fact("a", 0),
        fact("b", 20 * DAY, "contact_handled", service_type="outage", parent="a"),
    ]
    assert groups(facts) == [("a", "b")]


def test_contact_link_joins_across_service_type() -> None:
    facts = [
        fact("ivr", 0, "self_service", "ivr", contact_id="T1"),
        fact("q", 1, "inquiry", service_type="outage", contact_id="T1"),
    ]
    assert groups(facts) == [("ivr", "q")]


def test_case_link_beats_parent_link() -> None:
    facts = [
        fact("a", 0, case_id="K1"),
        fact("b", 1, service_type="outage"),
        fact("c", 2, "contact_handled", case_id="K1", parent="b"),
    ]
    assert groups(facts) == [("a", "c"), ("b",)]


def test_parent_link_beats_contact_link() -> None:
    facts = [
        fact("a", 0, contact_id="T1"),
        fact("b", 1, service_type="outage", contact_id="T2"),
        fact("c", 2, "contact_handled", parent="a", contact_id="T2"),
    ]
    assert groups(facts) == [("a", "c"), ("b",)]


def test_gap_exactly_at_the_limit_joins() -> None:
    facts = [fact("a", 0), fact("b", GAP)]
    assert groups(facts) == [("a", "b")]


def test_gap_just_over_the_limit_starts_a_new_episode() -> None:
    facts = [fact("a", 0), fact("b", GAP, us=1)]
    assert groups(facts) == [("a",), ("b",)]


def test_gap_counts_from_the_last_activity() -> None:
    facts = [fact("a", 0), fact("b", 5 * DAY), fact("c", 11 * DAY), fact("d", 18 * DAY)]
    assert groups(facts) == [("a", "b", "c", "d")]


def test_gap_is_configurable() -> None:
    facts = [fact("a", 0), fact("b", DAY, us=1)]
    assert groups(facts, ScenePolicy(gap_days=1)) == [("a",), ("b",)]
    assert groups(facts, ScenePolicy(gap_days=1.5)) == [("a", "b")]


def test_unlinked_facts_chain_per_service_type() -> None:
    facts = [
        fact("a", 0, service_type="billing"),
        fact("b", 1, service_type="outage"),
        fact("c", 2, service_type="billing"),
    ]
    assert groups(facts) == [("a", "c"), ("b",)]


def test_resolved_episode_takes_no_unlinked_facts() -> None:
    facts = [
        fact("a", 0),
        fact("b", 10, "contact_handled", parent="a", outcome="resolved"),
        fact("c", DAY),  # same matter, unlinked, within the gap: a repeat, not the same episode
        fact("d", 2 * DAY, "survey_sent", "email", parent="b"),  # linked: still joins
    ]
    assert groups(facts) == [("a", "b", "d"), ("c",)]


def test_unresolved_outcome_keeps_the_episode_open() -> None:
    facts = [
        fact("a", 0),
        fact("b", 10, "contact_handled", parent="a", outcome="unresolved"),
        fact("c", DAY),
    ]
    assert groups(facts) == [("a", "b", "c")]


def test_reopened_case_takes_unlinked_facts_again() -> None:
    resolved = [
        fact("a", 0, "complaint", case_id="K1"),
        fact("b", 60, "case_resolved", case_id="K1"),
    ]
    assert groups([*resolved, fact("c", DAY)]) == [("a", "b"), ("c",)]
    reopened = [*resolved, fact("r", DAY, "case_reopened", case_id="K1"), fact("c", 2 * DAY)]
    assert groups(reopened) == [("a", "b", "r", "c")]


def test_a_different_case_never_merges() -> None:
    facts = [
        fact("a", 0, case_id="K1", contact_id="T1"),
        fact("b", 60, case_id="K2"),  # same service type, within the gap
        fact("c", 120, "contact_handled", case_id="K3", parent="a"),  # parent is in K1's
        fact("d", 180, "contact_handled", case_id="K4", contact_id="T1"),  # contact is K1's
    ]
    result = scenes(facts)
    assert [s.event_ids for s in result] == [("a",), ("b",), ("c",), ("d",)]
    assert [s.case_id for s in result] == ["K1", "K2", "K3", "K4"]


def test_an_episode_without_case_adopts_the_first_case_it_sees() -> None:
    facts = [
        fact("a", 0),
        fact("b", 60, "case_opened", case_id="K1"),  # unlinked: joins by the gap rule
        fact("c", 30 * DAY, "case_resolved", case_id="K1"),  # joins through the case
    ]
    scene = only(facts)
    assert scene.event_ids == ("a", "b", "c")
    assert scene.case_id == "K1"


def test_every_fact_lands_in_exactly_one_episode() -> None:
    facts = in_event_time_order(
        [
            fact("a", 0, case_id="K1"),
            fact("b", 5, service_type="outage"),
            fact("c", 10, "contact_handled", parent="a", outcome="resolved"),
            fact("d", 15, service_type="outage", case_id="K2"),
            fact("e", 20, "case_resolved", case_id="K1"),
            fact("f", 20 * DAY),
            fact("g", 20 * DAY + 1, "contact_handled", parent="zzz-unknown"),
        ]
    )
    episodes = chain_episodes(facts, POLICY)
    flat = [f.event_id for episode in episodes for f in episode]
    assert sorted(flat) == sorted(f.event_id for f in facts)
    assert len(flat) == len(set(flat))
    for episode in episodes:
        assert episode == sorted(episode)
    # Episodes come in the order of their first touchpoint.
    assert [episode[0] for episode in episodes] == sorted(episode[0] for episode in episodes)
    assert [tuple(f.event_id for f in ep) for ep in episodes] == groups(facts)


def test_no_facts_no_scenes() -> None:
    assert scenes_of([], POLICY, COSTS) == []
    assert chain_episodes([], POLICY) == []


# -- scene metrics -----------------------------------------------------------------------------


def test_start_end_and_local_offset() -> None:
    scene = only(
        [
            fact("a", 0, offset_minutes=60),
            fact("b", 30, "contact_handled", parent="a", offset_minutes=0),
        ]
    )
    assert scene.customer_id == "C1"
    assert scene.service_type == "billing"
    assert scene.started_at == t(0)
    assert scene.ended_at == t(30)
    assert scene.started_offset_minutes == 60
    assert scene.touchpoints == 2


def test_one_call_is_one_contact() -> None:
    scene = only(
        [
            fact("ivr", 0, "self_service", "ivr", contact_id="T1"),
            fact("q", 2, "inquiry", "phone", contact_id="T1"),
            fact("h", 5, "contact_handled", "phone", contact_id="T1", outcome="resolved"),
            fact("note", 6, "case_assigned", "phone", direction="internal", parent="q"),
        ]
    )
    assert scene.touchpoints == 4
    assert scene.contacts == 1
    assert scene.inbound_contacts == 1
    assert scene.first_contact_resolution is True


def test_contacts_without_contact_id_count_one_each() -> None:
    scene = only(
        [
            fact("q", 0),
            fact("h", 5, "contact_handled", parent="q"),
            fact("n", 6, "notification_sent", "sms", parent="q"),
            fact("x", 7, "case_assigned", direction="internal"),
        ]
    )
    assert scene.contacts == 3
    assert scene.inbound_contacts == 1


def test_channels_path_and_handoffs() -> None:
    scene = only(
        [
            fact("a", 0, "inquiry", "web"),
            fact("b", 10, "inquiry", "phone"),
            fact("c", 11, "contact_handled", "phone", parent="b", actor_id="A1"),
            fact("i", 15, "case_assigned", "chat", direction="internal"),  # not customer-facing
            fact("d", 20, "notification_sent", "email", actor_type="system"),
            fact("e", 30, "callback", "phone", parent="b", actor_id="A2"),
            fact("f", 31, "contact_handled", "phone", parent="b", actor_id="A2"),
        ]
    )
    assert scene.channels == ("web", "phone", "email")
    assert scene.channel_path == ("web", "phone", "email", "phone")
    assert scene.entry_channel == "web"
    assert scene.handoffs == (
        Handoff(t(10), "channel", "web", "phone", "b"),
        Handoff(t(20), "channel", "phone", "email", "d"),
        Handoff(t(30), "channel", "email", "phone", "e"),
        Handoff(t(30), "agent", "A1", "A2", "e"),
    )


def test_agent_handoff_counts_internal_work() -> None:
    scene = only(
        [
            fact("a", 0, "complaint", case_id="K1"),
            fact("b", 1, "case_assigned", direction="internal", case_id="K1", actor_id="A1"),
            fact("c", 2, "case_assigned", direction="internal", case_id="K1", actor_id="A2"),
        ]
    )
    assert scene.handoffs == (Handoff(t(2), "agent", "A1", "A2", "c"),)
    assert scene.channel_path == ("phone",)


def test_entry_channel_of_an_internal_only_episode() -> None:
    scene = only([fact("a", 0, "case_opened", "web", direction="internal", case_id="K1")])
    assert scene.channel_path == ()
    assert scene.channels == ()
    assert scene.entry_channel == "web"
    assert scene.contacts == 0


def test_open_episode() -> None:
    scene = only([fact("a", 0)])
    assert scene.status == "open"
    assert scene.resolved_at is None
    assert scene.first_resolved_at is None
    assert scene.is_resolved is False
    assert scene.time_to_resolution_seconds is None
    assert scene.first_contact_resolution is None
    assert scene.outcome is None


def test_resolved_episode_and_time_to_resolution() -> None:
    scene = only([fact("a", 0), fact("b", 90, "contact_handled", parent="a", outcome="resolved")])
    assert scene.status == "resolved"
    assert scene.resolved_at == scene.first_resolved_at == t(90)
    assert scene.is_resolved is True
    assert scene.time_to_resolution_seconds == 90 * 60.0
    assert scene.outcome == "resolved"


def test_self_service_step_can_resolve() -> None:
    scene = only([fact("a", 0, "self_service", "app", outcome="resolved")])
    assert scene.status == "resolved"
    assert scene.first_contact_resolution is True


def test_in_a_case_only_the_case_resolution_counts() -> None:
    facts = [
        fact("a", 0, "complaint", case_id="K1"),
        fact("b", 1, "case_opened", case_id="K1", parent="a"),
        fact("c", 2, "contact_handled", case_id="K1", outcome="resolved"),
    ]
    assert only(facts).status == "open"
    resolved = [*facts, fact("d", DAY, "case_resolved", case_id="K1")]
    scene = only(resolved)
    assert scene.status == "resolved"
    assert scene.resolved_at == t(DAY)


def test_failed_case_resolution_does_not_resolve() -> None:
    facts = [
        fact("a", 0, "complaint", case_id="K1"),
        fact("b", 10, "case_resolved", case_id="K1", outcome="failed"),
    ]
    scene = only(facts)
    assert scene.status == "open"
    assert scene.resolved_at is None


def test_closed_episode() -> None:
    scene = only(
        [
            fact("a", 0, "complaint", case_id="K1"),
            fact("b", 1, "case_opened", case_id="K1", parent="a"),
            fact("c", DAY, "case_resolved", case_id="K1"),
            fact("d", 2 * DAY, "case_closed", case_id="K1"),
        ]
    )
    assert scene.status == "closed"
    assert scene.resolved_at == scene.first_resolved_at == t(DAY)
    assert scene.time_to_resolution_seconds == DAY * 60.0


def test_closed_without_resolution() -> None:
    scene = only(
        [
            fact("a", 0, "complaint", case_id="K1"),
            fact("b", DAY, "case_closed", case_id="K1", outcome="unresolved"),
        ]
    )
    assert scene.status == "closed"
    assert scene.resolved_at is None
    assert scene.first_contact_resolution is None


def test_reopened_case() -> None:
    facts = [
        fact("a", 0, "complaint", case_id="K1"),
        fact("b", 1, "case_opened", case_id="K1", parent="a"),
        fact("c", DAY, "case_resolved", case_id="K1"),
        fact("d", 2 * DAY, "case_reopened", case_id="K1"),
    ]
    reopened = only(facts)
    assert reopened.status == "open"
    assert reopened.reopened == 1
    assert reopened.resolved_at is None
    assert reopened.first_resolved_at == t(DAY)
    assert reopened.first_contact_resolution is False

    again = only([*facts, fact("e", 3 * DAY, "case_resolved", case_id="K1")])
    assert again.status == "resolved"
    assert again.resolved_at == t(3 * DAY)
    assert again.first_resolved_at == t(DAY)
    assert again.time_to_resolution_seconds == 3 * DAY * 60.0
    assert again.first_contact_resolution is False


def test_an_opening_record_is_never_a_resolution() -> None:
    # Without a case, a provider touchpoint with outcome "resolved" resolves the episode; a
    # (re)opening record re-opens it even when a source tagged it "resolved".
    facts = [
        fact("q", 0),
        fact("h", 10, "contact_handled", parent="q", outcome="resolved"),
        fact("r", 20, "case_reopened", parent="h", outcome="resolved"),
    ]
    scene = only(facts)
    assert scene.status == "open"
    assert scene.resolved_at is None
    assert scene.is_resolved is False
    assert scene.first_resolved_at == t(10)


def test_an_opening_record_does_not_start_the_fcr_window() -> None:
    facts = [
        fact("q", 0),
        fact("o", 10, "case_opened", parent="q", outcome="resolved"),
        fact("h", 2 * DAY, "contact_handled", parent="q", outcome="resolved"),
        fact("again", 8 * DAY),  # 8 days after the opening, 6 after the resolution
    ]
    first, _ = scenes(facts)
    assert first.first_resolved_at == t(2 * DAY)
    assert first.first_contact_resolution is False


# -- first-contact resolution ------------------------------------------------------------------


def _resolved_call(start: float = 0, service_type: str = "billing") -> list[Fact]:
    return [
        fact("q", start, service_type=service_type),
        fact("h", start + 10, "contact_handled", parent="q", outcome="resolved"),
    ]


def test_fcr_one_contact_resolved() -> None:
    assert only(_resolved_call()).first_contact_resolution is True


def test_fcr_false_with_two_inbound_contacts_before_resolution() -> None:
    facts = [
        fact("q1", 0),
        fact("q2", 60),
        fact("h", 120, "contact_handled", parent="q2", outcome="resolved"),
    ]
    scene = only(facts)
    assert scene.inbound_contacts == 2
    assert scene.first_contact_resolution is False


def test_fcr_none_without_an_inbound_contact() -> None:
    scene = only([fact("n", 0, "outage_notice", "sms", outcome="resolved")])
    assert scene.status == "resolved"
    assert scene.first_contact_resolution is None


def test_fcr_feedback_is_not_another_contact() -> None:
    facts = [*_resolved_call(), fact("f", DAY, "feedback", "web", parent="h", score=5)]
    scene = only(facts)
    assert scene.inbound_contacts == 1
    assert scene.first_contact_resolution is True


def test_fcr_false_after_a_repeat_request_in_a_later_episode() -> None:
    facts = [*_resolved_call(), fact("again", 3 * DAY)]
    first, repeat = scenes(facts)
    assert first.event_ids == ("q", "h")
    assert repeat.event_ids == ("again",)
    assert first.first_contact_resolution is False
    assert repeat.first_contact_resolution is None


def test_fcr_repeat_window_boundaries() -> None:
    # The first resolution is at minute 10; the window is 7 days after it, inclusive.
    at_limit = [*_resolved_call(), fact("again", 10 + GAP)]
    assert scenes(at_limit)[0].first_contact_resolution is False
    past_limit = [*_resolved_call(), fact("again", 10 + GAP, us=1)]
    assert scenes(past_limit)[0].first_contact_resolution is True


def test_fcr_window_is_configurable() -> None:
    facts = [*_resolved_call(), fact("again", 3 * DAY)]
    policy = ScenePolicy(fcr_window_days=2)
    assert scenes(facts, policy)[0].first_contact_resolution is True


def test_fcr_repeat_must_be_the_same_service_type() -> None:
    facts = [*_resolved_call(), fact("other", 3 * DAY, service_type="outage")]
    assert scenes(facts)[0].first_contact_resolution is True


def test_fcr_only_requests_count_as_repeats() -> None:
    facts = [
        *_resolved_call(),
        fact("s", DAY, "self_service", "app"),
        fact("g", DAY + 1, "suggestion", "web"),
        fact("n", DAY + 2, "notification_sent", "sms"),
    ]
    assert scenes(facts)[0].first_contact_resolution is True
    for kind in ("complaint", "report", "service_request"):
        with_request = [*_resolved_call(), fact("r", DAY, kind)]
        assert scenes(with_request)[0].first_contact_resolution is False, kind


def test_fcr_requests_before_the_resolution_are_not_repeats() -> None:
    facts = [
        fact("old", 0, service_type="billing"),
        fact("old-h", 10, "contact_handled", parent="old", outcome="resolved"),
        *_resolved_call(start=10 * DAY),
    ]
    first, second = scenes(facts)
    assert first.first_contact_resolution is True  # the second call is 10 days later
    assert second.first_contact_resolution is True


def test_fold_updates_an_earlier_verdict_when_the_repeat_arrives() -> None:
    fold = SceneFold(POLICY, COSTS)
    history = _resolved_call()
    [scene] = fold.scenes(history)
    assert scene.first_contact_resolution is True
    grown = [*history, fact("again", 2 * DAY)]
    first, _ = fold.scenes(grown)
    assert first.first_contact_resolution is False
    assert fold.scenes(grown) == scenes_of(grown, POLICY, COSTS)


# -- satisfaction, effort, cost ----------------------------------------------------------------


def test_satisfaction_is_the_mean_score() -> None:
    facts = [
        *_resolved_call(),
        fact("f1", DAY, "feedback", "web", parent="h", score=4),
        fact("f2", DAY + 1, "feedback", "web", parent="h", score=5),
    ]
    scene = only(facts)
    assert scene.satisfaction == 4.5
    assert scene.feedback_count == 2
    assert only(_resolved_call()).satisfaction is None
    assert only(_resolved_call()).feedback_count == 0


def test_outcome_is_the_latest_provider_outcome() -> None:
    facts = [
        fact("q", 0),
        fact("h", 10, "contact_handled", parent="q", outcome="transferred"),
        fact("h2", 20, "contact_handled", parent="q", outcome="resolved"),
        fact("f", 30, "feedback", "web", parent="h2", outcome="unresolved", score=1),
    ]
    assert only(facts).outcome == "resolved"


def test_wait_and_handle_seconds_add_up() -> None:
    facts = [
        fact("q", 0, wait=30.0),
        fact("h", 10, "contact_handled", parent="q", handle=240.0),
        fact("h2", 20, "callback", parent="q", wait=5.5, handle=60.0),
    ]
    scene = only(facts)
    assert scene.wait_seconds == 35.5
    assert scene.handle_seconds == 300.0


def test_cost_from_default_unit_costs() -> None:
    facts = [
        fact("q", 0, "inquiry", "phone"),  # 6.0
        fact("h", 10, "contact_handled", "phone", parent="q"),  # 6.0
        fact("a", 11, "case_assigned", "phone", direction="internal"),  # free
        fact("n", 12, "notification_sent", "sms", parent="q"),  # 0.05
    ]
    assert only(facts).cost == 12.05


def test_cost_from_configured_unit_costs() -> None:
    costs = UnitCosts(
        channels={Channel.PHONE: 1.0},
        kinds={Channel.PHONE: {Kind.CONTACT_HANDLED: 2.5}},
    )
    facts = [
        fact("q", 0, "inquiry", "phone"),  # 1.0
        fact("h", 10, "contact_handled", "phone", parent="q"),  # override 2.5
        fact("a", 11, "case_assigned", "phone", direction="internal"),  # free
        fact("n", 12, "notification_sent", "sms", parent="q"),  # sms keeps its default: 0.05
    ]
    assert only(facts, costs=costs).cost == 3.55
    fold = SceneFold(POLICY, costs)
    assert fold.scenes(in_event_time_order(facts))[0].cost == 3.55


def test_a_linked_fact_of_another_service_type_does_not_capture_that_type() -> None:
    facts = [
        fact("bill", 0, "inquiry", service_type="billing"),
        fact("out1", 5, "report", service_type="outage", parent="bill"),  # joins by its link
        fact("out2", 10, "report", service_type="outage"),  # unlinked: its own outage episode
    ]
    assert groups(facts) == [("bill", "out1"), ("out2",)]


# -- pairing -----------------------------------------------------------------------------------


def _pairings(facts: list[Fact]) -> dict[str, Pairing]:
    return {p.event_id: p for s in scenes(facts) for p in s.pairings}


def test_inquiry_answered_by_the_handled_contact() -> None:
    [scene] = scenes(_resolved_call())
    assert scene.pairings == (
        Pairing("q", "inquiry", t(0), "h", "contact_handled", t(10), "answered"),
    )
    assert scene.unmatched_promises == ()


def test_inquiry_answered_within_the_same_contact() -> None:
    facts = [
        fact("ivr", 0, "self_service", "ivr", contact_id="T1"),
        fact("q", 1, contact_id="T1"),
        fact("h", 4, "contact_handled", contact_id="T1"),
    ]
    assert _pairings(facts)["q"].execution_event_id == "h"


def test_inquiry_unanswered() -> None:
    facts = [fact("q", 0), fact("n", 5, "notification_sent", "sms", parent="q")]
    pairing = _pairings(facts)["q"]
    assert pairing == Pairing("q", "inquiry", t(0), None, None, None, "unanswered")
    assert pairing.is_promise is False
    assert pairing.unmatched is False  # only promises are "unmatched"


def test_complaint_answered_by_the_case_resolution_through_the_case() -> None:
    facts = [
        fact("c", 0, "complaint", case_id="K1"),
        fact("o", 5, "case_opened", direction="internal", case_id="K1", parent="c"),
        fact("as", 6, "case_assigned", direction="internal", case_id="K1", parent="o"),
        fact("r", 2 * DAY, "case_resolved", case_id="K1", parent="as"),
        fact("x", 3 * DAY, "case_closed", case_id="K1", parent="r"),
    ]
    assert _pairings(facts)["c"] == Pairing(
        "c", "complaint", t(0), "r", "case_resolved", t(2 * DAY), "answered"
    )


def test_outbound_requests_are_not_paired() -> None:
    facts = [fact("q", 0, "inquiry", direction="outbound", actor_type="agent")]
    assert only(facts).pairings == ()


def test_no_requests_no_pairings() -> None:
    assert only([fact("n", 0, "notification_sent", "sms")]).pairings == ()


def test_callback_promise_kept() -> None:
    facts = [
        fact("q", 0),
        fact("p", 5, "callback_promised", parent="q"),
        fact("cb", 60, "callback", parent="p", outcome="resolved"),
    ]
    pairing = _pairings(facts)["p"]
    assert pairing == Pairing("p", "callback_promised", t(5), "cb", "callback", t(60), "kept")
    assert pairing.is_promise is True
    assert pairing.unmatched is False


def test_callback_promise_failed() -> None:
    facts = [
        fact("q", 0),
        fact("p", 5, "callback_promised", parent="q"),
        fact("cb1", 60, "callback", parent="p", outcome="failed"),
        fact("cb2", 90, "callback", parent="p", outcome="abandoned"),
    ]
    pairing = _pairings(facts)["p"]
    assert pairing.status == "failed"
    assert pairing.execution_event_id == "cb2"  # the last attempt
    assert pairing.unmatched is False


def test_callback_promise_kept_after_a_failed_attempt() -> None:
    facts = [
        fact("q", 0),
        fact("p", 5, "callback_promised", parent="q"),
        fact("cb1", 60, "callback", parent="p", outcome="failed"),
        fact("cb2", 90, "callback", parent="p"),
    ]
    pairing = _pairings(facts)["p"]
    assert (pairing.status, pairing.execution_event_id) == ("kept", "cb2")


def test_callback_promise_open() -> None:
    facts = [fact("q", 0), fact("p", 5, "callback_promised", parent="q")]
    [scene] = scenes(facts)
    pairing = _pairings(facts)["p"]
    assert pairing == Pairing("p", "callback_promised", t(5), None, None, None, "open")
    assert scene.unmatched_promises == (pairing,)


def test_field_dispatch_missed() -> None:
    facts = [
        fact("r", 0, "report"),
        fact("d", 10, "field_dispatch", "field", parent="r"),
        fact("m", DAY, "appointment_missed", "field", parent="d"),
    ]
    [scene] = scenes(facts)
    pairing = _pairings(facts)["d"]
    assert pairing.status == "missed"
    assert pairing.execution_event_id is None
    assert scene.unmatched_promises == (pairing,)
    assert _pairings(facts)["r"].status == "unanswered"


def test_field_dispatch_kept_after_a_missed_appointment() -> None:
    facts = [
        fact("r", 0, "report"),
        fact("d", 10, "field_dispatch", "field", parent="r"),
        fact("m", DAY, "appointment_missed", "field", parent="d"),
        fact("v", 2 * DAY, "field_visit", "field", parent="m", outcome="resolved"),
    ]
    [scene] = scenes(facts)
    assert _pairings(facts)["d"].status == "kept"
    assert _pairings(facts)["r"].execution_event_id == "v"
    assert scene.unmatched_promises == ()


def test_field_dispatch_failed_visit() -> None:
    facts = [
        fact("d", 0, "field_dispatch", "field"),
        fact("v", DAY, "field_visit", "field", parent="d", outcome="cancelled"),
    ]
    assert _pairings(facts)["d"].status == "failed"


def test_redispatch_is_a_new_promise() -> None:
    facts = [
        fact("r", 0, "report"),
        fact("d1", 10, "field_dispatch", "field", parent="r"),
        fact("m", DAY, "appointment_missed", "field", parent="d1"),
        fact("d2", DAY + 10, "field_dispatch", "field", parent="m"),
        fact("v", 3 * DAY, "field_visit", "field", parent="d2"),
    ]
    [scene] = scenes(facts)
    pairings = {p.event_id: p for p in scene.pairings}
    assert [p.event_id for p in scene.pairings] == ["r", "d1", "d2"]
    assert pairings["d1"].status == "missed"
    assert (pairings["d2"].status, pairings["d2"].execution_event_id) == ("kept", "v")
    assert scene.unmatched_promises == (pairings["d1"],)


def test_pairing_survives_parent_cycles() -> None:
    facts = [
        fact("p", 0, "callback_promised", parent="cb"),
        fact("cb", 10, "callback", parent="p"),
    ]
    assert _pairings(facts)["p"].status == "kept"


# -- episode ids -------------------------------------------------------------------------------


def test_episode_id_is_uuid5_of_customer_and_first_touchpoint() -> None:
    expected = str(uuid.uuid5(EPISODE_NAMESPACE, "C1/a"))
    assert episode_id("C1", "a") == expected
    assert uuid.UUID(expected).version == 5
    assert episode_id("C2", "a") != expected
    assert episode_id("C1", "b") != expected


def test_episode_id_is_stable_as_the_episode_grows() -> None:
    history = [fact("a", 0)]
    first = only(history).episode_id
    assert first == episode_id("C1", "a")
    grown = [*history, fact("b", 10, "contact_handled", parent="a", outcome="resolved")]
    assert only(grown).episode_id == first
    assert only(list(grown)).episode_id == first  # and across runs


def test_episode_id_changes_when_a_late_arrival_comes_first() -> None:
    history = [fact("b", 10), fact("c", 20)]
    late = fact("a", 5)
    assert only([*history, late]).episode_id == episode_id("C1", "a")
    assert only(history).episode_id == episode_id("C1", "b")


# -- the incremental fold equals the definition ------------------------------------------------

_STEPS = st.one_of(
    st.just(0),
    st.integers(1, 180).map(lambda minutes: minutes * MINUTE_US),
    st.integers(1, 9).map(lambda days: days * DAY_US),
    st.sampled_from([GAP * MINUTE_US, GAP * MINUTE_US + 1, GAP * MINUTE_US - 1]),
)
# Strategies built once: building them per draw costs more than the folds under test.
_KIND = st.sampled_from([kind.value for kind in Kind])
_PROVIDER_DIRECTION = st.sampled_from(["outbound", "outbound", "internal"])
_PROVIDER_ACTOR = st.sampled_from(["agent", "agent", "system", "bot"])
_AGENT = st.sampled_from([None, "A1", "A2"])
_PICK = st.integers(0, 99)
_RECORDED_LAG = st.sampled_from([0, 0, 1, HOUR_US, 3 * DAY_US])
_OFFSET = st.sampled_from([0, 60, 480])
_CHANNEL = st.sampled_from(["phone", "ivr", "web", "email", "field"])
_SERVICE_TYPE = st.sampled_from(["billing", "outage", "meter"])
_CASE = st.sampled_from([None, None, None, "K1", "K2"])
_CONTACT = st.sampled_from([None, None, "T1", "T2", "T3"])
_OUTCOME = st.sampled_from([None, None, None, *(outcome.value for outcome in Outcome)])
_SCORE = st.sampled_from([None, None, None, 1, 3, 5])
_WAIT = st.sampled_from([None, 12.5])
_HANDLE = st.sampled_from([None, 300.0])


@st.composite
def histories(draw: st.DrawFn) -> list[Fact]:
    """One customer's facts in generation order (roughly event-time order)."""
    count = draw(st.integers(1, 22))
    occurred = EPOCH_US
    facts = []
    for index in range(count):
        occurred += draw(_STEPS)
        kind = draw(_KIND)
        if kind in _CUSTOMER_KINDS:
            direction, actor_type, actor_id = "inbound", "customer", None
        else:
            direction, actor_type, actor_id = (
                draw(_PROVIDER_DIRECTION),
                draw(_PROVIDER_ACTOR),
                draw(_AGENT),
            )
        # Mostly no parent or an earlier fact; sometimes a dangling or a later one (or itself).
        pick = draw(_PICK)
        parent = (
            None
            if pick < 45
            else f"e{pick % (index + 1):02d}"
            if pick < 85
            else "dangling"
            if pick < 92
            else f"e{pick % count:02d}"
        )
        facts.append(
            Fact(
                occurred=occurred,
                recorded=occurred + draw(_RECORDED_LAG),
                event_id=f"e{index:02d}",
                customer_id="C1",
                offset_minutes=draw(_OFFSET),
                channel=draw(_CHANNEL),
                direction=direction,
                actor_type=actor_type,
                actor_id=actor_id,
                kind=kind,
                service_type=draw(_SERVICE_TYPE),
                case_id=draw(_CASE),
                contact_id=draw(_CONTACT),
                parent_event_id=parent,
                outcome=draw(_OUTCOME),
                score=draw(_SCORE),
                wait_seconds=draw(_WAIT),
                handle_seconds=draw(_HANDLE),
            )
        )
    return facts


_DELAY = st.sampled_from([0, 0, 0, 0, 0, 1, 4, 30])
_CHUNK = st.integers(1, 3)


def _arrivals(data: st.DataObject, facts: list[Fact]) -> list[list[Fact]]:
    return arrival_histories(data, facts, _DELAY, _CHUNK)


def _check_invariants(history: list[Fact], result: list[Scene], policy: ScenePolicy) -> None:
    by_id = {f.event_id: f for f in history}
    position = {f.event_id: index for index, f in enumerate(history)}
    seen = Counter(event_id for scene in result for event_id in scene.event_ids)
    assert seen == Counter(f.event_id for f in history), "every fact in exactly one scene"
    assert [[f.event_id for f in ep] for ep in chain_episodes(history, policy)] == [
        list(scene.event_ids) for scene in result
    ]
    firsts = [position[scene.event_ids[0]] for scene in result]
    assert firsts == sorted(firsts)
    window = round(policy.fcr_window_days * DAY_US)
    for scene in result:
        members = [by_id[event_id] for event_id in scene.event_ids]
        assert [position[f.event_id] for f in members] == sorted(
            position[f.event_id] for f in members
        )
        assert scene.episode_id == episode_id("C1", members[0].event_id)
        assert scene.touchpoints == len(members)
        assert scene.started_at == members[0].occurred
        assert scene.ended_at == members[-1].occurred
        cases = {f.case_id for f in members if f.case_id is not None}
        assert len(cases) <= 1, "one case per episode"
        assert scene.case_id == next((f.case_id for f in members if f.case_id), None)
        assert 0 <= scene.inbound_contacts <= scene.contacts <= scene.touchpoints
        if scene.status == "resolved":
            assert scene.resolved_at is not None
        if scene.status == "open":
            assert scene.resolved_at is None, "an open episode has no standing resolution"
        if scene.resolved_at is not None:
            assert scene.first_resolved_at is not None
            assert scene.first_resolved_at <= scene.resolved_at
        if scene.first_contact_resolution is not None:
            assert scene.first_resolved_at is not None
            assert scene.inbound_contacts >= 1
        assert scene.reopened == sum(f.kind == "case_reopened" for f in members)
        if scene.first_contact_resolution is not None:
            resolved_at = scene.first_resolved_at
            assert resolved_at is not None
            repeat = any(
                f.kind in _REQUESTS
                and f.direction == "inbound"
                and f.service_type == scene.service_type
                and resolved_at < f.occurred <= resolved_at + window
                for f in history
            )
            if scene.first_contact_resolution:
                assert scene.reopened == 0
                assert not repeat, "a repeat request in the window makes it not first-contact"
            elif scene.reopened == 0 and not repeat:
                assert scene.inbound_contacts >= 2, "nothing else makes it not first-contact"
        path = scene.channel_path
        assert all(a != b for a, b in pairwise(path))
        assert scene.channels == tuple(dict.fromkeys(path))
        if path:
            assert scene.entry_channel == path[0]
        assert scene.cost == round(sum(COSTS.cost(f.channel, f.kind) for f in members), 6)
        for pairing in scene.pairings:
            assert pairing.event_id in scene.event_ids
            if pairing.execution_event_id is not None:
                assert pairing.execution_event_id in scene.event_ids


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    facts=histories(),
    policy=st.sampled_from([POLICY, ScenePolicy(gap_days=2, fcr_window_days=3)]),
    data=st.data(),
)
def test_incremental_fold_equals_the_definition(
    facts: list[Fact], policy: ScenePolicy, data: st.DataObject
) -> None:
    fold = SceneFold(policy, COSTS)
    for history in _arrivals(data, facts):
        expected = scenes_of(history, policy, COSTS)
        assert fold.scenes(history) == expected
        assert fold.scenes(history) == expected  # asked again, unchanged
        _check_invariants(history, expected, policy)
