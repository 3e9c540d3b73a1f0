"""The journey fold is pure: the fast path from Avro records equals the row from the model."""

from __future__ import annotations

from datetime import timedelta, timezone

from events.touchpoint import Attachment, Identifiers, SealedPersonal, Touchpoint
from projections.journey import (
    JOURNEY_COLUMNS,
    entry_from_row,
    from_micros,
    journey_columns_from_avro,
    journey_row,
    to_micros,
)
from schemas.serde import TouchpointSerde
from tests.factories import BASE_TIME, make_touchpoint

SERDE = TouchpointSerde()


def touchpoints() -> list[Touchpoint]:
    return [
        make_touchpoint("C1", "complaint", "phone", minutes=0),
        make_touchpoint("C2", "feedback", "sms", minutes=1, score=5, text="thanks"),
        make_touchpoint(
            "C3",
            "callback",
            "phone",
            minutes=2,
            identifiers=Identifiers(account="f" * 32),
            personal=SealedPersonal(key_id="k", nonce=b"\x01" * 12, ciphertext=b"\xfe" * 20),
            outcome="resolved",
            attachments=(Attachment(uri="u:1", media_type="text/plain", sha256="0" * 64),),
            attributes={"agent_team": "night"},
            recorded_at=BASE_TIME.astimezone(timezone(timedelta(hours=-3, minutes=-30)))
            + timedelta(minutes=3),
        ),
    ]


def test_columns_from_avro_equal_the_pivot_of_model_rows() -> None:
    tps = touchpoints()
    records = [SERDE.decode_dict(SERDE.encode(tp)) for tp in tps]

    columns = journey_columns_from_avro(2, [10, 11, 12], records)
    rows = [journey_row(2, 10 + i, tp) for i, tp in enumerate(tps)]

    assert len(columns) == len(JOURNEY_COLUMNS)
    assert [list(c) for c in zip(*rows, strict=True)] == columns


def test_a_row_reads_back_as_the_same_facts() -> None:
    tp = touchpoints()[2]

    entry = entry_from_row(journey_row(0, 7, tp))

    assert entry.occurred_at == tp.occurred_at
    assert entry.recorded_at.utcoffset() == timedelta(hours=-3, minutes=-30)
    assert entry.personal == tp.personal
    assert entry.attachments == tp.attachments
    assert (entry.kind, entry.outcome, entry.position) == (tp.kind, tp.outcome, 7)


def test_micros_are_exact_and_keep_the_offset() -> None:
    moment = BASE_TIME + timedelta(microseconds=123_457)

    assert from_micros(to_micros(moment), 480) == moment
    assert from_micros(to_micros(moment), 480).utcoffset() == timedelta(hours=8)
