"""The customer profile fold: counts, preferred channel, self-service share, satisfaction."""

from __future__ import annotations

from typing import Any

from projections.customer import ProfileFold, profile_of
from projections.facts import MINUTE_US, Fact, in_event_time_order
from tests.factories import FOLD_EPOCH_US, make_fact

#: Monday 2026-01-05 00:00 UTC, in microseconds.
EPOCH_US = FOLD_EPOCH_US


def fact(event_id: str, minutes: int = 0, *args: str, **fields: Any) -> Fact:
    """A fact ``minutes`` after the epoch Monday; see :func:`make_fact`."""
    return make_fact(event_id, EPOCH_US + minutes * MINUTE_US, *args, **fields)


def test_counts_and_span() -> None:
    facts = [
        fact("a", 0, "inquiry", "phone"),
        fact("b", 5, "contact_handled", "phone"),
        fact("c", 6, "case_assigned", "phone", direction="internal"),
        fact("d", 60, "notification_sent", "sms"),
        fact("e", 120, "complaint", "email", service_type="outage"),
    ]
    profile = profile_of(facts)
    assert profile.customer_id == "C1"
    assert profile.touchpoints == 5
    assert profile.contacts == 4  # the internal record is no contact
    assert profile.inbound == 2
    assert profile.outbound == 2
    assert profile.first_contact_at == EPOCH_US
    assert profile.last_contact_at == EPOCH_US + 120 * MINUTE_US
    assert profile.by_channel == (("email", 1), ("phone", 2), ("sms", 1))
    assert profile.service_types == ("billing", "outage")


def test_internal_records_do_not_move_first_and_last_contact() -> None:
    facts = [
        fact("a", 0, "case_opened", direction="internal"),
        fact("b", 10, "inquiry"),
        fact("c", 20, "case_closed", direction="internal"),
    ]
    profile = profile_of(facts)
    assert profile.first_contact_at == EPOCH_US + 10 * MINUTE_US
    assert profile.last_contact_at == EPOCH_US + 10 * MINUTE_US


def test_only_internal_records_fall_back_to_them() -> None:
    facts = [
        fact("a", 0, "case_opened", direction="internal"),
        fact("b", 30, "case_closed", direction="internal"),
    ]
    profile = profile_of(facts)
    assert profile.contacts == 0
    assert profile.first_contact_at == EPOCH_US
    assert profile.last_contact_at == EPOCH_US + 30 * MINUTE_US
    assert profile.by_channel == ()
    assert profile.preferred_channel is None
    assert profile.self_service_share is None


def test_preferred_channel_is_the_most_used_by_the_customer() -> None:
    facts = [
        fact("a", 0, "inquiry", "web"),
        fact("b", 1, "inquiry", "phone"),
        fact("c", 2, "report", "phone"),
        fact("d", 3, "inquiry", "chat"),
        # Outbound contacts are the organisation's choice, not the customer's.
        fact("e", 4, "notification_sent", "sms"),
        fact("f", 5, "notification_sent", "sms"),
        fact("g", 6, "notification_sent", "sms"),
    ]
    assert profile_of(facts).preferred_channel == "phone"


def test_preferred_channel_tie_goes_to_the_most_recent() -> None:
    facts = [
        fact("a", 0, "inquiry", "web"),
        fact("b", 1, "inquiry", "phone"),
        fact("c", 2, "inquiry", "phone"),
        fact("d", 3, "inquiry", "web"),
    ]
    assert profile_of(facts).preferred_channel == "web"
    swapped = [
        fact("a", 0, "inquiry", "phone"),
        fact("b", 1, "inquiry", "web"),
        fact("c", 2, "inquiry", "web"),
        fact("d", 3, "inquiry", "phone"),
    ]
    assert profile_of(swapped).preferred_channel == "phone"


def test_self_service_share_of_customer_initiated_contacts() -> None:
    facts = [
        fact("a", 0, "self_service", "app"),
        fact("b", 1, "self_service", "web"),
        fact("c", 2, "inquiry", "phone"),
        fact("d", 3, "feedback", "app", score=4),
        fact("e", 4, "contact_handled", "phone"),  # not customer-initiated
    ]
    assert profile_of(facts).self_service_share == 2 / 4


def test_average_satisfaction_and_feedback_count() -> None:
    facts = [
        fact("a", 0, "inquiry"),
        fact("b", 1, "feedback", "web", score=5),
        fact("c", 2, "feedback", "web", score=2),
        fact("d", 3, "survey_sent", "email", score=None),
    ]
    profile = profile_of(facts)
    assert profile.feedback_count == 2
    assert profile.average_satisfaction == 3.5


def test_no_scores_no_satisfaction() -> None:
    profile = profile_of([fact("a", 0, "inquiry")])
    assert profile.feedback_count == 0
    assert profile.average_satisfaction is None


def test_complaints_counted_with_the_latest() -> None:
    facts = [
        fact("a", 0, "complaint", "phone"),
        fact("b", 10, "inquiry", "phone"),
        fact("c", 20, "complaint", "email"),
    ]
    profile = profile_of(facts)
    assert profile.complaints == 2
    assert profile.last_complaint_at == EPOCH_US + 20 * MINUTE_US
    assert profile_of([fact("a", 0, "inquiry")]).complaints == 0
    assert profile_of([fact("a", 0, "inquiry")]).last_complaint_at is None


def test_profile_ignores_delivery_order() -> None:
    facts = [fact(f"e{i}", i, "inquiry", ("web", "phone")[i % 2]) for i in range(6)]
    assert profile_of(in_event_time_order(reversed(facts))) == profile_of(facts)


def test_the_incremental_fold_equals_the_definition_as_a_history_grows() -> None:
    kinds = [
        ("inquiry", "phone"),
        ("self_service", "web"),
        ("complaint", "app"),
        ("feedback", "sms"),
        ("contact_handled", "phone"),
        ("case_opened", "email"),
    ]
    history: list[Fact] = []
    fold = ProfileFold()
    for i in range(40):
        kind, channel = kinds[(i * 7) % len(kinds)]
        direction = "internal" if kind == "case_opened" else None
        score = (i % 5) + 1 if kind == "feedback" else None
        late = i % 9 == 8  # every ninth arrives late, into the middle of the history
        minutes = i * 10 - (55 if late else 0)
        new = fact(
            f"e{i:02d}",
            minutes,
            kind,
            channel,
            direction=direction,
            score=score,
            service_type=("billing", "outage")[i % 2],
        )
        history = in_event_time_order([*history, new])
        assert fold.profile(history) == profile_of(history)
