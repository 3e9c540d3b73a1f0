"""TouchpointSerde / AvroSerde: exact round trips, the Confluent frame, and loud failures."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.errors import MalformedMessage, SchemaError, UnknownSchemaId
from events.taxonomy import ActorType, Channel, Direction, Kind, Outcome
from events.touchpoint import Actor, Attachment, Identifiers, SealedPersonal, Source, Touchpoint
from schemas import (
    TOUCHPOINT_SUBJECT,
    AvroSerde,
    FileSchemaRegistry,
    TouchpointSerde,
    schema_id_of,
    touchpoint_to_avro,
)
from tests.unit.avro_samples import minimal_touchpoint, rich_touchpoint, zone

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@pytest.fixture(scope="module")
def registry() -> FileSchemaRegistry:
    return FileSchemaRegistry.load()


@pytest.fixture(scope="module")
def serde(registry: FileSchemaRegistry) -> TouchpointSerde:
    return TouchpointSerde(registry)


# --- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tz",
    [zone(8), zone(-5), UTC, zone(5, 45), zone(-9, 30), zone(14)],
    ids=["+08:00", "-05:00", "UTC", "+05:45", "-09:30", "+14:00"],
)
def test_rich_touchpoint_round_trips_with_its_offsets(serde: TouchpointSerde, tz: timezone) -> None:
    tp = rich_touchpoint(tz)
    back = serde.decode(serde.encode(tp))
    assert back == tp
    assert back.occurred_at.utcoffset() == tp.occurred_at.utcoffset()
    assert back.recorded_at.utcoffset() == timedelta(hours=-5)
    assert back.occurred_at.isoformat() == tp.occurred_at.isoformat()  # same wall-clock text


def test_decoded_touchpoint_has_real_nested_models_and_enums(serde: TouchpointSerde) -> None:
    tp = rich_touchpoint()
    back = serde.decode(serde.encode(tp))
    assert isinstance(back.event_id, UUID)
    assert isinstance(back.source, Source)
    assert isinstance(back.identifiers, Identifiers)
    assert isinstance(back.personal, SealedPersonal)
    assert isinstance(back.actor, Actor)
    assert all(isinstance(a, Attachment) for a in back.attachments)
    assert isinstance(back.attachments, tuple)
    assert back.channel is Channel.PHONE
    assert back.direction is Direction.INBOUND
    assert back.actor.type is ActorType.CUSTOMER
    assert back.kind is Kind.FEEDBACK
    assert back.outcome is Outcome.RESOLVED
    assert back.personal.nonce == bytes(range(12))
    assert back.personal.ciphertext == b"\xff" * 90
    assert back.attributes == tp.attributes
    assert back.is_customer_side
    assert back.model_dump() == tp.model_dump()


def test_touchpoint_without_optional_fields_round_trips(serde: TouchpointSerde) -> None:
    tp = minimal_touchpoint()
    back = serde.decode(serde.encode(tp))
    assert back == tp
    assert back.personal is None
    assert back.outcome is None
    assert back.score is None
    assert back.wait_seconds is None
    assert back.text is None
    assert back.attachments == ()
    assert back.attributes == {}
    assert back.identifiers == Identifiers()


@pytest.mark.parametrize(
    "overrides",
    [
        {"outcome": Outcome.OTHER},
        {"personal": None, "attachments": ()},
        {"attributes": {"only": "one"}},
        {"identifiers": Identifiers(email="e" * 64)},
        {"wait_seconds": 0.0, "handle_seconds": 1e-6},
        {"text": ""},
    ],
)
def test_partially_filled_touchpoints_round_trip(
    serde: TouchpointSerde, overrides: dict[str, Any]
) -> None:
    tp = rich_touchpoint(**overrides)
    assert serde.decode(serde.encode(tp)) == tp


def test_decode_dict_is_the_plain_avro_record(serde: TouchpointSerde) -> None:
    tp = rich_touchpoint(zone(-5))
    record = serde.decode_dict(serde.encode(tp))
    assert record["occurred_at"] == tp.occurred_at
    assert record["occurred_at"].tzinfo is not None
    assert record["occurred_at"].utcoffset() == timedelta(0)
    assert record["occurred_offset_minutes"] == -300
    assert record["channel"] == "phone"
    assert record["attachments"][0]["media_type"] == "audio/ogg"


# --- the direct encoder writes exactly fastavro's bytes ------------------------------------------


def test_packaged_schema_uses_the_fast_path(serde: TouchpointSerde) -> None:
    assert serde.fast_path


@pytest.mark.parametrize("build", [rich_touchpoint, minimal_touchpoint])
def test_fast_path_bytes_equal_fastavro_bytes(
    serde: TouchpointSerde, registry: FileSchemaRegistry, build: Any
) -> None:
    tp = build()
    generic = AvroSerde(registry, TOUCHPOINT_SUBJECT)
    assert serde.encode(tp) == generic.encode(touchpoint_to_avro(tp))


_text = st.text(min_size=1, max_size=80).map(str.strip).filter(bool)
_opt_text = st.none() | _text


@st.composite
def _touchpoints(draw: st.DrawFn) -> Touchpoint:
    offset = draw(st.integers(min_value=-14 * 60, max_value=14 * 60))
    tz = timezone(timedelta(minutes=offset))
    kind = draw(st.sampled_from([Kind.COMPLAINT, Kind.FEEDBACK, Kind.CALLBACK, Kind.OTHER]))
    customer = kind in {Kind.COMPLAINT, Kind.FEEDBACK}
    # Years 2..9998: the far edges of datetime overflow when the offset and the recorded-at
    # delay are applied, which no real touchpoint comes near.
    moment = draw(
        st.datetimes(
            min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.just(tz)
        )
    )
    return rich_touchpoint(
        tz,
        occurred_at=moment,
        recorded_at=moment + timedelta(microseconds=draw(st.integers(0, 10**12))),
        kind=kind,
        direction=Direction.INBOUND if customer else draw(st.sampled_from(list(Direction))),
        actor=Actor(
            type=ActorType.CUSTOMER
            if customer
            else draw(st.sampled_from([ActorType.AGENT, ActorType.BOT])),
            id=draw(_opt_text),
        ),
        channel=draw(st.sampled_from(list(Channel))),
        outcome=draw(st.none() | st.sampled_from(list(Outcome))),
        score=draw(st.none() | st.integers(1, 5)) if kind is Kind.FEEDBACK else None,
        wait_seconds=draw(st.none() | st.floats(0, 1e9)),
        case_id=draw(_opt_text),
        text=draw(st.none() | st.text(max_size=300)),
        attributes=draw(st.dictionaries(st.text(max_size=70), st.text(max_size=70), max_size=5)),
        personal=draw(
            st.none()
            | st.builds(
                SealedPersonal,
                key_id=_text,
                nonce=st.binary(min_size=12, max_size=12),
                ciphertext=st.binary(min_size=16, max_size=200),
            )
        ),
    )


@settings(max_examples=150, deadline=None)
@given(tp=_touchpoints())
def test_fast_path_matches_fastavro_for_generated_touchpoints(tp: Touchpoint) -> None:
    registry = FileSchemaRegistry.load()
    serde = TouchpointSerde(registry)
    generic = AvroSerde(registry, TOUCHPOINT_SUBJECT)
    data = serde.encode(tp)
    assert data == generic.encode(touchpoint_to_avro(tp))
    back = serde.decode(data)
    assert back == tp
    assert back.occurred_at.utcoffset() == tp.occurred_at.utcoffset()


# --- wire format ---------------------------------------------------------------------------------


def test_message_is_confluent_framed(serde: TouchpointSerde) -> None:
    data = serde.encode(rich_touchpoint())
    assert data[0] == 0x00
    assert data[1:5] == (1).to_bytes(4, "big")
    assert schema_id_of(data) == serde.schema_id == 1


# --- failures ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "shorter than the 5-byte"),
        (b"\x00\x00\x00", "shorter than the 5-byte"),
        (b"\x01\x00\x00\x00\x01abc", "magic byte"),
        (b'{"json": true}', "magic byte"),
        (b"\x00\x00\x00\x00\x01", "truncated"),
    ],
)
def test_bad_frames_are_malformed(serde: TouchpointSerde, data: bytes, why: str) -> None:
    with pytest.raises(MalformedMessage, match=why):
        serde.decode(data)


def test_truncated_message_is_malformed(serde: TouchpointSerde) -> None:
    data = serde.encode(rich_touchpoint())
    for cut in (6, 40, len(data) // 2, len(data) - 1):
        with pytest.raises(MalformedMessage, match="truncated"):
            serde.decode(data[:cut])


def test_trailing_bytes_are_malformed(serde: TouchpointSerde) -> None:
    data = serde.encode(minimal_touchpoint())
    with pytest.raises(MalformedMessage, match="trailing bytes"):
        serde.decode(data + b"\x00\x00")


def test_garbage_after_a_valid_header_is_malformed(serde: TouchpointSerde) -> None:
    with pytest.raises(MalformedMessage):
        serde.decode(b"\x00\x00\x00\x00\x01" + b"\xff" * 64)


def test_invalid_utf8_is_malformed(serde: TouchpointSerde) -> None:
    data = serde.encode(minimal_touchpoint(customer_id="CUSTOMER"))
    broken = data.replace(b"CUSTOMER", b"\xff\xfeSTOMER")
    with pytest.raises(MalformedMessage, match="UTF-8"):
        serde.decode(broken)


def test_unknown_schema_id_is_reported(serde: TouchpointSerde) -> None:
    data = serde.encode(minimal_touchpoint())
    forged = b"\x00" + (4711).to_bytes(4, "big") + data[5:]
    with pytest.raises(UnknownSchemaId, match="4711"):
        serde.decode(forged)


def test_malformed_and_unknown_are_schema_errors() -> None:
    assert issubclass(MalformedMessage, SchemaError)
    assert issubclass(UnknownSchemaId, SchemaError)


def test_generic_serde_refuses_a_record_that_does_not_fit(registry: FileSchemaRegistry) -> None:
    generic = AvroSerde(registry, TOUCHPOINT_SUBJECT)
    with pytest.raises(SchemaError, match="does not fit schema 1"):
        generic.encode({"event_id": "not enough fields"})


def test_unencodable_string_is_a_schema_error(serde: TouchpointSerde) -> None:
    # The model refuses lone surrogates; an unvalidated copy is how one could slip through.
    tp = minimal_touchpoint().model_copy(update={"text": "lone surrogate \ud800"})
    with pytest.raises(SchemaError, match="cannot be encoded"):
        serde.encode(tp)


# --- evolution: a newer reader schema decodes older writers' bytes --------------------------------


def _registry_with(tmp_path: Path, extra: list[tuple[dict[str, Any], str, str]]) -> Path:
    """A copy of the packaged registry plus ``(schema, file, subject)`` entries."""
    index = json.loads((SCHEMAS / "registry.json").read_text())
    for entry in index["schemas"]:
        shutil.copy(SCHEMAS / entry["file"], tmp_path / entry["file"])
    first = 1 + max(entry["id"] for entry in index["schemas"])
    for number, (schema, file, subject) in enumerate(extra, start=first):
        (tmp_path / file).write_text(json.dumps(schema))
        version = 1 + sum(1 for e in index["schemas"] if e["subject"] == subject)
        index["schemas"].append(
            {"id": number, "subject": subject, "version": version, "file": file}
        )
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(index))
    return path


def _touchpoint_v2() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / "touchpoint.v1.avsc").read_text())
    schema["fields"].append(
        {"name": "language", "type": ["null", "string"], "default": None, "doc": "BCP 47 tag."}
    )
    return schema


def test_newer_schema_decodes_v1_bytes(tmp_path: Path, serde: TouchpointSerde) -> None:
    v1_bytes = serde.encode(rich_touchpoint(zone(-5)))
    path = _registry_with(tmp_path, [(_touchpoint_v2(), "touchpoint.v2.avsc", TOUCHPOINT_SUBJECT)])
    newer = TouchpointSerde(FileSchemaRegistry.load(path))
    assert newer.schema_id == max(entry.id for entry in FileSchemaRegistry.load(path))
    assert not newer.fast_path  # the direct encoder only writes the structure it was built for
    assert newer.decode(v1_bytes) == serde.decode(v1_bytes)
    assert newer.decode_dict(v1_bytes)["language"] is None
    tp = minimal_touchpoint()
    v2_bytes = newer.encode(tp)
    assert schema_id_of(v2_bytes) == newer.schema_id
    assert newer.decode(v2_bytes) == tp
    with pytest.raises(UnknownSchemaId):
        serde.decode(v2_bytes)  # the packaged registry has never heard of the v2 id


def test_a_message_of_another_subject_is_refused(tmp_path: Path) -> None:
    other = {"type": "record", "name": "Ping", "fields": [{"name": "n", "type": "int"}]}
    path = _registry_with(tmp_path, [(other, "ping.v1.avsc", "servicetrace.pings-value")])
    registry = FileSchemaRegistry.load(path)
    ping = AvroSerde(registry, "servicetrace.pings-value").encode({"n": 7})
    with pytest.raises(MalformedMessage, match=r"belongs to subject 'servicetrace\.pings-value'"):
        TouchpointSerde(registry).decode(ping)


def test_decoded_timestamps_are_aware_even_for_utc(serde: TouchpointSerde) -> None:
    tp = minimal_touchpoint()
    record = serde.decode_dict(serde.encode(tp))
    assert record["recorded_at"].tzinfo == UTC


def test_the_event_id_is_read_without_decoding() -> None:
    from schemas.serde import touchpoint_event_id
    from tests.factories import make_touchpoint

    serde = TouchpointSerde()
    tp = make_touchpoint(customer_id="C-evid")
    assert touchpoint_event_id(serde.encode(tp)) == str(tp.event_id)
    with pytest.raises(MalformedMessage):
        touchpoint_event_id(b"\x01\x00\x00\x00\x01\x48abc")


def test_every_touchpoint_schema_version_starts_with_the_event_id() -> None:
    registry = FileSchemaRegistry.load()
    for schema_id in registry.versions("servicetrace.touchpoints.v1-value"):
        assert registry.raw(schema_id)["fields"][0]["name"] == "event_id"
