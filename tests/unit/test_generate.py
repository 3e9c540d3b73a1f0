"""The demo generator: same bytes per seed, valid records, live order, scenarios, flat memory."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.identity import IdentifierHasher, source_event_id
from events.intake import Intake
from events.keys.memory import MemoryKeyStore
from events.personal import PersonalVault
from services.generate import generate, write_ndjson

Record = dict[str, Any]
NOW = datetime(2026, 6, 1, tzinfo=UTC)
CUSTOMER_KINDS = {"inquiry", "complaint", "report", "suggestion", "service_request", "feedback"}


def _digest(customers: int, days: int, seed: int) -> tuple[str, int]:
    out = io.StringIO()
    count = write_ndjson(out, customers, days, seed)
    return hashlib.sha256(out.getvalue().encode()).hexdigest(), count


def _at(record: Record, field: str) -> datetime:
    return datetime.fromisoformat(record[field])


def _event_id(record: Record) -> str:
    return source_event_id(record["source"]["system"], record["source"]["event_id"])


def _by_customer(records: Iterable[Record]) -> dict[str, list[Record]]:
    grouped: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        grouped[record["customer"]["id"]].append(record)
    for rows in grouped.values():
        rows.sort(key=lambda r: _at(r, "occurred_at"))
    return grouped


@pytest.fixture(scope="module")
def sample() -> list[Record]:
    return list(generate(500, 60, 7))


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    first, count = _digest(120, 30, 11)
    assert count > 500
    assert _digest(120, 30, 11) == (first, count)
    assert _digest(120, 30, 12)[0] != first


def test_every_record_passes_intake() -> None:
    intake = Intake(IdentifierHasher(b"x" * 16), PersonalVault(MemoryKeyStore()), clock=lambda: NOW)
    ids = set()
    for record in generate(150, 30, 3):
        ids.add(intake.touchpoint(record).event_id)
    assert len(ids) > 1000  # and no two records share an event id by accident


def test_stream_is_in_recorded_order(sample: list[Record]) -> None:
    recorded = [_at(r, "recorded_at") for r in sample]
    assert recorded == sorted(recorded)
    assert all(_at(r, "recorded_at") >= _at(r, "occurred_at") for r in sample)
    start, end = recorded[0], datetime.fromisoformat("2026-03-06T00:00:00+08:00")
    assert start >= datetime.fromisoformat("2026-01-05T00:00:00+08:00") and recorded[-1] < end


def test_volume_is_a_few_events_per_customer_week(sample: list[Record]) -> None:
    per_week = len(sample) / 500 / (60 / 7)
    assert 2 <= per_week <= 6


def test_missed_appointment_followed_by_complaint(sample: list[Record]) -> None:
    def missed_then_complained(rows: list[Record]) -> bool:
        missed = [r for r in rows if r["kind"] == "appointment_missed"]
        return any(
            r["kind"] == "complaint"
            and r.get("case_id") == m["case_id"]
            and _at(r, "occurred_at") > _at(m, "occurred_at")
            for m in missed
            for r in rows
        )

    assert sum(missed_then_complained(rows) for rows in _by_customer(sample).values()) >= 3


def test_field_visits_happen_with_an_outcome(sample: list[Record]) -> None:
    visits = [r for r in sample if r["kind"] == "field_visit"]
    assert len(visits) > 50
    assert {r["outcome"] for r in visits} == {"resolved", "unresolved"}


def test_callbacks_promised_mostly_made_sometimes_never(sample: list[Record]) -> None:
    answered = {r["parent_event_id"] for r in sample if r["kind"] == "callback"}
    horizon = datetime.fromisoformat("2026-03-01T00:00:00+08:00")
    promises = [
        r for r in sample if r["kind"] == "callback_promised" and _at(r, "occurred_at") < horizon
    ]
    never = [r for r in promises if _event_id(r) not in answered]
    assert 0 < len(never) < len(promises) / 2


def test_feedback_scores_span_one_to_five_and_drop_after_bad_experiences(
    sample: list[Record],
) -> None:
    feedback = [r for r in sample if r["kind"] == "feedback"]
    assert {r["score"] for r in feedback} == {1, 2, 3, 4, 5}
    assert all(r["channel"] == "sms" for r in feedback)
    surveys = {_event_id(r) for r in sample if r["kind"] == "survey_sent"}
    assert all(r["parent_event_id"] in surveys for r in feedback)
    scores = _scores_by_case_trouble(sample)
    assert sum(scores[True]) / len(scores[True]) < sum(scores[False]) / len(scores[False]) - 1


def _scores_by_case_trouble(records: list[Record]) -> dict[bool, list[int]]:
    """Feedback scores split by whether their case saw a missed appointment or an escalation."""
    troubled = {
        r["case_id"]
        for r in records
        if r["kind"] in {"appointment_missed", "case_escalated", "case_reopened"}
    }
    scores: dict[bool, list[int]] = {True: [], False: []}
    for r in records:
        if r["kind"] == "feedback":
            scores[r.get("case_id") in troubled].append(r["score"])
    return scores


def test_outage_bursts(sample: list[Record]) -> None:
    notices: dict[str, list[Record]] = defaultdict(list)
    for r in sample:
        if r["kind"] == "outage_notice" and "area" in r.get("attributes", {}):
            notices[r["occurred_at"][:10] + r["attributes"]["area"]].append(r)
    assert notices
    biggest = max(notices.values(), key=len)
    assert len(biggest) >= 25  # most of one area's ~40 customers told within the hour
    area, day = biggest[0]["attributes"]["area"], biggest[0]["occurred_at"][:10]
    first = min(_at(r, "occurred_at") for r in biggest)
    window = [
        r
        for r in sample
        if r["service_type"] == "outage"
        and r["actor"]["type"] == "customer"
        and first - timedelta(hours=1) <= _at(r, "occurred_at") <= first + timedelta(hours=6)
    ]
    assert len(window) >= 8, (area, day)


def _outside_windows(moment: datetime) -> bool:
    minute = moment.hour * 60 + moment.minute
    in_window = 570 <= minute < 720 or 840 <= minute < 1050
    return moment.weekday() >= 5 or not in_window


def test_outbound_mostly_in_permitted_windows_with_some_violations(sample: list[Record]) -> None:
    outbound = [
        r for r in sample if r["kind"] == "callback" or "campaign" in r.get("attributes", {})
    ]
    outside = [r for r in outbound if _outside_windows(_at(r, "occurred_at"))]
    assert 0.03 * len(outbound) < len(outside) < 0.3 * len(outbound)
    assert any(_at(r, "occurred_at").weekday() >= 5 for r in outside)
    assert any(_at(r, "occurred_at").hour >= 18 for r in outside)
    surveys = [r for r in sample if r["kind"] == "survey_sent"]
    assert sum(_outside_windows(_at(r, "occurred_at")) for r in surveys) < 0.1 * len(surveys)


def test_outbound_calls_after_long_silence() -> None:
    silence = timedelta(days=60)
    last_seen: dict[str, datetime] = {}
    first_day = datetime.fromisoformat("2026-01-05T00:00:00+08:00")
    calls_after_silence = 0
    for r in sorted(generate(300, 150, 7), key=lambda r: _at(r, "occurred_at")):
        at, customer = _at(r, "occurred_at"), r["customer"]["id"]
        if r["channel"] == "phone" and r["direction"] == "outbound" and at - first_day > silence:
            calls_after_silence += at - last_seen.get(customer, first_day) > silence
        last_seen[customer] = at
    assert calls_after_silence >= 2


def test_late_arrivals(sample: list[Record]) -> None:
    late = [r for r in sample if _at(r, "recorded_at") - _at(r, "occurred_at") > timedelta(hours=1)]
    assert {r["channel"] for r in late} >= {"field", "letter"}
    assert any(_at(r, "recorded_at") - _at(r, "occurred_at") > timedelta(days=1) for r in late)


def test_channel_hopping(sample: list[Record]) -> None:
    def hops(rows: list[Record]) -> bool:
        for i, web in enumerate(rows):
            if web["channel"] != "web":
                continue
            soon = [
                r["channel"]
                for r in rows[i + 1 :]
                if r["service_type"] == web["service_type"]
                and r["actor"]["type"] == "customer"
                and _at(r, "occurred_at") - _at(web, "occurred_at") <= timedelta(hours=48)
            ]
            if "chat" in soon and "phone" in soon[soon.index("chat") :]:
                return True
        return False

    assert sum(hops(rows) for rows in _by_customer(sample).values()) >= 5


def test_repeated_requests_about_one_issue(sample: list[Record]) -> None:
    def repeats(rows: list[Record]) -> bool:
        asks = [r for r in rows if r["kind"] in CUSTOMER_KINDS and r["kind"] != "feedback"]
        return any(
            sum(
                1
                for b in asks
                if b["service_type"] == a["service_type"]
                and timedelta(0)
                <= _at(b, "occurred_at") - _at(a, "occurred_at")
                <= timedelta(days=7)
            )
            >= 3
            for a in asks
        )

    assert sum(repeats(rows) for rows in _by_customer(sample).values()) >= 10


def test_case_life_cycles_chain_by_case_id(sample: list[Record]) -> None:
    cases: dict[str, list[str]] = defaultdict(list)
    for r in sorted(sample, key=lambda r: _at(r, "occurred_at")):
        if r["kind"].startswith("case_"):
            cases[r["case_id"]].append(r["kind"])
    kinds = {k for seq in cases.values() for k in seq}
    assert kinds == {
        "case_opened",
        "case_assigned",
        "case_escalated",
        "case_resolved",
        "case_reopened",
        "case_closed",
    }
    assert all(seq[0] == "case_opened" for seq in cases.values())
    reopened = [seq for seq in cases.values() if "case_reopened" in seq]
    assert reopened and all(
        seq.index("case_reopened") > seq.index("case_resolved") for seq in reopened
    )


def test_calls_and_ivr_carry_their_metrics(sample: list[Record]) -> None:
    handled = [r for r in sample if r["kind"] == "contact_handled" and r["channel"] == "phone"]
    assert handled and all("wait_seconds" in r and "handle_seconds" in r for r in handled)
    assert all(r["actor"]["type"] == "agent" and r["parent_event_id"] for r in handled)
    ivr = [r for r in sample if r["channel"] == "ivr"]
    assert ivr and all(r["kind"] == "self_service" and r["attributes"]["ivr_path"] for r in ivr)


def _peak(customers: int, days: int) -> int:
    tracemalloc.start()
    try:
        for _ in generate(customers, days, 5):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_over_time() -> None:
    small, long = _peak(50, 15), _peak(50, 300)
    assert long < 2 * small, (small, long)


def test_memory_grows_with_customers_only_by_their_active_state() -> None:
    small, many = _peak(50, 15), _peak(1000, 15)
    assert many < 20 * small  # not the history: the pending follow-ups and a few bytes each
    assert (many - small) / 950 < 3000, (small, many)
