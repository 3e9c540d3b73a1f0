"""The erasure record: one per customer, checked before anything is destroyed, repeats kept."""

from __future__ import annotations

import pytest

from services.erasure import Erasure, InvalidErasure, erasure_id
from services.erasure.domain import checked_request


def test_one_record_per_customer_by_a_derived_id() -> None:
    record = Erasure.record(" C1 ", " dpo ", " REQ-17 ", "2026-01-05T09:30:00+00:00", 1, 2)
    assert record.id == erasure_id("C1") != erasure_id("C2")
    assert record.customer_id == "C1"
    assert record.first == {
        "action": "erased",
        "by": "dpo",
        "reason": "REQ-17",
        "when": "2026-01-05T09:30:00+00:00",
        "keys_destroyed": 1,
        "letters_scrubbed": 2,
    }


def test_a_repeat_is_kept_and_totals_add_up() -> None:
    record = Erasure.record("C1", "dpo", "REQ-17", "t1", 1, 2)
    record.repeat("ann", "REQ-17 follow-up", "t2", 1, 0)
    assert [step["action"] for step in record.history] == ["erased", "repeated"]
    assert record.history[1]["by"] == "ann"
    assert (record.keys_destroyed, record.letters_scrubbed, record.version) == (2, 2, 2)


@pytest.mark.parametrize(
    ("customer", "by", "reason", "says"),
    [
        ("", "dpo", "REQ", "customer id"),
        ("C1", "  ", "REQ", "--by"),
        ("C1", "dpo", "", "--reason"),
    ],
)
def test_a_request_without_customer_person_or_reason_is_refused(
    customer: str, by: str, reason: str, says: str
) -> None:
    with pytest.raises(InvalidErasure, match=says):
        checked_request(customer, by, reason)
    with pytest.raises(InvalidErasure):
        Erasure.record(customer, by, reason, "t", 0, 0)


def test_a_repeat_needs_a_reason_too() -> None:
    record = Erasure.record("C1", "dpo", "REQ-17", "t1", 1, 0)
    with pytest.raises(InvalidErasure, match="reason"):
        record.repeat("dpo", " ", "t2", 0, 0)
    assert len(record.history) == 1
