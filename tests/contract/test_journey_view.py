"""The journey view on the real ClickHouse engine (embedded chdb, one database per test)."""

from __future__ import annotations

import os
from datetime import timedelta, timezone
from uuid import UUID

import pytest

from events.log import LogRecord
from events.touchpoint import Attachment, Identifiers, SealedPersonal, Touchpoint
from projections.clickhouse import ViewStore
from projections.views.journey_view import JourneyView
from schemas.serde import TouchpointSerde
from tests.factories import BASE_TIME, make_touchpoint

SERDE = TouchpointSerde()

UTC_MINUS_5 = timezone(timedelta(hours=-5))


@pytest.fixture
def view(view_store: ViewStore) -> JourneyView:
    journey = JourneyView(view_store)
    journey.ensure()
    return journey


def write(
    view: JourneyView,
    touchpoints: list[Touchpoint],
    partition: int = 0,
    positions: dict[UUID, int] | None = None,
) -> None:
    """Write ``touchpoints`` as one batch; ``positions`` pins each one's log position, as a
    re-delivery from the log would (default: their index in this batch)."""
    at = positions or {tp.event_id: i for i, tp in enumerate(touchpoints)}
    records = [
        LogRecord(partition, at[tp.event_id], tp.customer_id, str(tp.event_id), SERDE.encode(tp))
        for tp in touchpoints
    ]
    assert view.write(records) == []


def log_positions(touchpoints: list[Touchpoint]) -> dict[UUID, int]:
    return {tp.event_id: i for i, tp in enumerate(touchpoints)}


def rich_touchpoint() -> Touchpoint:
    return make_touchpoint(
        "C-rich",
        "complaint",
        "app",
        minutes=5,
        recorded_at=BASE_TIME.astimezone(UTC_MINUS_5) + timedelta(minutes=7),
        identifiers=Identifiers(phone="a" * 32, email="b" * 32),
        personal=SealedPersonal(
            key_id="k-1", nonce=b"\x00\xff" * 6, ciphertext=os.urandom(24) + b"\x00\x80"
        ),
        case_id="CASE-9",
        contact_id="CT-1",
        parent_event_id="11111111-2222-3333-4444-555555555555",
        outcome="escalated",
        wait_seconds=12.5,
        handle_seconds=300.25,
        text="No power since 9 o'clock — 停电",
        attachments=(
            Attachment(uri="s3://bucket/rec.wav", media_type="audio/wav", sha256="c" * 64),
        ),
        attributes={"queue": "outage", "ivr_path": "1>3>2"},
    )


def test_a_rich_touchpoint_round_trips_with_its_offsets(view: JourneyView) -> None:
    tp = rich_touchpoint()
    write(view, [tp], partition=3)

    (entry,) = view.timeline("C-rich")

    assert entry.event_id == UUID(str(tp.event_id))
    assert entry.occurred_at == tp.occurred_at
    assert entry.occurred_at.utcoffset() == timedelta(hours=8)
    assert entry.recorded_at == tp.recorded_at
    assert entry.recorded_at.utcoffset() == timedelta(hours=-5)
    assert (entry.channel, entry.kind, entry.direction) == (tp.channel, tp.kind, tp.direction)
    assert (entry.actor_type, entry.actor_id) == (tp.actor.type, tp.actor.id)
    assert entry.personal == tp.personal, "sealed bytes come back byte for byte"
    assert entry.identifiers == {"phone": "a" * 32, "email": "b" * 32}
    assert (entry.case_id, entry.contact_id, entry.parent_event_id) == (
        tp.case_id,
        tp.contact_id,
        tp.parent_event_id,
    )
    assert (entry.outcome, entry.wait_seconds, entry.handle_seconds) == (
        tp.outcome,
        12.5,
        300.25,
    )
    assert entry.text == tp.text
    assert entry.attachments == tp.attachments
    assert entry.attributes == tp.attributes
    assert (entry.source_system, entry.source_event_id) == (tp.source.system, tp.source.event_id)
    assert (entry.partition, entry.position, entry.service_type) == (3, 0, "outage")


def test_a_feedback_score_and_empty_optionals_round_trip(view: JourneyView) -> None:
    tp = make_touchpoint("C2", "feedback", "sms", score=4)
    write(view, [tp])

    (entry,) = view.timeline("C2")

    assert entry.score == 4
    assert entry.personal is None
    assert entry.identifiers == {}
    assert entry.attachments == ()
    assert entry.attributes == {}
    assert entry.outcome is None


def test_no_plaintext_personal_data_is_stored(view: JourneyView, view_store: ViewStore) -> None:
    write(view, [rich_touchpoint()])

    columns = view_store.rows(
        "SELECT name FROM system.columns WHERE database = {db:String} AND table = 'journey'",
        {"db": view_store.database},
    )

    names = {name for (name,) in columns}
    assert {"personal_key_id", "personal_nonce", "personal_ciphertext"} <= names
    assert not names & {"name", "phone", "email", "address", "note"}


def test_re_inserting_the_same_batch_changes_nothing(view: JourneyView) -> None:
    batch = [make_touchpoint(f"C{i % 3}", minutes=i) for i in range(30)]
    positions = log_positions(batch)
    write(view, batch, positions=positions)
    count, checksum = view.count(), view.checksum()

    write(view, batch, positions=positions)
    write(view, batch[5:12], positions=positions)

    assert (view.count(), view.checksum()) == (count, checksum) == (30, checksum)


def test_checksum_ignores_write_order_but_sees_content(view: JourneyView) -> None:
    batch = [make_touchpoint("C1", minutes=i) for i in range(10)]
    positions = log_positions(batch)
    write(view, batch[5:] + batch[:5], positions=positions)
    forward = view.checksum()
    view.reset()
    write(view, batch[:5], positions=positions)
    write(view, batch[5:], positions=positions)

    assert view.checksum() == forward
    write(view, [make_touchpoint("C1", minutes=99)])
    assert view.checksum() != forward


def test_timeline_is_in_event_time_order_across_channels(view: JourneyView) -> None:
    later = make_touchpoint("C1", "callback", "phone", minutes=60)
    first = make_touchpoint("C1", "complaint", "app", minutes=0)
    middle = make_touchpoint("C1", "case_opened", "web", minutes=1)
    # Same occurred_at as `middle`, recorded later: sorts after it.
    tie = make_touchpoint(
        "C1",
        "notification_sent",
        "sms",
        minutes=1,
        recorded_at=middle.recorded_at + timedelta(seconds=30),
    )
    other = make_touchpoint("C2", "inquiry", "email", minutes=30)
    write(view, [later, tie, other], partition=1)
    write(view, [middle, first], partition=2)

    timeline = view.timeline("C1")

    assert [e.event_id for e in timeline] == [
        UUID(str(tp.event_id)) for tp in (first, middle, tie, later)
    ]
    assert [e.channel.value for e in timeline] == ["app", "web", "sms", "phone"]
    assert [e.event_id for e in view.timeline("C1", limit=2)] == [e.event_id for e in timeline[:2]]


def test_summary_counts_by_channel_and_kind(view: JourneyView) -> None:
    write(
        view,
        [
            make_touchpoint("C1", "complaint", "phone", minutes=0),
            make_touchpoint("C1", "complaint", "app", minutes=1),
            make_touchpoint("C2", "inquiry", "phone", minutes=2),
            make_touchpoint("C3", "callback", "phone", minutes=3),
        ],
    )

    summary = view.summary()

    assert summary.total == 4
    assert summary.by_channel == {"phone": 3, "app": 1}
    assert summary.by_kind == {"complaint": 2, "inquiry": 1, "callback": 1}


def test_customers_are_ranked_by_touchpoints(view: JourneyView) -> None:
    write(
        view,
        [make_touchpoint("C1", minutes=i) for i in range(3)]
        + [make_touchpoint("C2", minutes=i) for i in range(5)]
        + [make_touchpoint("C0", minutes=i) for i in range(3)],
    )

    assert view.customers(limit=2) == [("C2", 5), ("C0", 3)]
    assert view.customers() == [("C2", 5), ("C0", 3), ("C1", 3)]


def test_an_empty_view_has_a_stable_checksum(view: JourneyView) -> None:
    assert view.count() == 0
    assert view.checksum() == view.checksum()
    assert view.timeline("nobody") == []
    assert view.summary().total == 0
