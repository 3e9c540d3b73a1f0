"""Other services decode our topics knowing only the ``.avsc`` file; the schema mirrors the model.

The independent reader below uses nothing from :mod:`schemas`: ``json`` + ``fastavro`` and the
Confluent rule "skip the 5-byte header", which is all a consumer in another codebase would do.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from uuid import uuid4

import fastavro
import pytest
from pydantic import BaseModel

from events import taxonomy
from events.touchpoint import (
    Actor,
    Attachment,
    Identifiers,
    SealedPersonal,
    Source,
    Touchpoint,
)
from schemas import TouchpointSerde
from tests.unit.avro_samples import minimal_touchpoint, rich_touchpoint, zone

AVSC = Path(__file__).resolve().parents[2] / "schemas" / "touchpoint.v1.avsc"
RAW: dict[str, Any] = json.loads(AVSC.read_text(encoding="utf-8"))
#: Fields the Avro record has beyond the model: the offsets that make aware datetimes round-trip.
AVRO_ONLY = {"occurred_offset_minutes", "recorded_offset_minutes"}


def _independent_read(data: bytes) -> dict[str, Any]:
    schema = fastavro.parse_schema(json.loads(AVSC.read_text(encoding="utf-8")))
    assert data[0] == 0
    record = fastavro.schemaless_reader(io.BytesIO(data[5:]), schema)
    assert isinstance(record, dict)
    return record


def test_independent_reader_decodes_what_the_serde_wrote() -> None:
    tp = rich_touchpoint(zone(8))
    record = _independent_read(TouchpointSerde().encode(tp))
    assert record["event_id"] == tp.event_id
    assert record["occurred_at"] == tp.occurred_at
    assert record["occurred_at"].tzinfo is not None
    assert record["occurred_offset_minutes"] == 480
    assert record["recorded_offset_minutes"] == -300
    assert record["customer_id"] == "CUST-000123"
    assert record["channel"] == "phone"
    assert record["kind"] == "feedback"
    assert record["actor"] == {"type": "customer", "id": "caller"}
    assert record["outcome"] == "resolved"
    assert record["personal"]["nonce"] == bytes(range(12))
    assert record["attachments"][1]["uri"] == "https://x.example/f.pdf"
    assert record["attributes"] == tp.attributes
    assert record["text"] == tp.text
    assert record["score"] == 4


def test_independent_reader_sees_nulls_for_unset_fields() -> None:
    record = _independent_read(TouchpointSerde().encode(minimal_touchpoint()))
    assert record["personal"] is None
    assert record["outcome"] is None
    assert record["attachments"] == []
    assert record["attributes"] == {}
    assert record["identifiers"] == {"phone": None, "email": None, "account": None, "social": None}


def test_serde_decodes_what_a_plain_fastavro_producer_wrote() -> None:
    schema = fastavro.parse_schema(json.loads(AVSC.read_text(encoding="utf-8")))
    event_id = uuid4()
    record = {
        "event_id": str(event_id),
        "occurred_at": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        "occurred_offset_minutes": -300,
        "recorded_at": datetime(2024, 1, 2, 3, 5, 0, tzinfo=UTC),
        "source": {"system": "crm"},
        "customer_id": "C-9",
        "channel": "email",
        "direction": "inbound",
        "actor": {"type": "customer"},
        "kind": "complaint",
        "service_type": "billing",
    }
    buffer = io.BytesIO()
    buffer.write(b"\x00" + (1).to_bytes(4, "big"))
    fastavro.schemaless_writer(buffer, schema, record)  # missing fields take their defaults
    tp = TouchpointSerde().decode(buffer.getvalue())
    assert tp.event_id == event_id
    assert tp.occurred_at.isoformat() == "2024-01-01T22:04:05-05:00"
    assert tp.recorded_at.isoformat() == "2024-01-02T03:05:00+00:00"
    assert tp.schema_version == 1
    assert tp.identifiers == Identifiers()
    assert tp.attachments == ()
    # What came out of the log is a model the validator accepts as-is.
    assert Touchpoint.model_validate(tp.model_dump()) == tp


# --- the schema mirrors events/taxonomy.py and events/touchpoint.py ------------------------------


def _named(node: Any, found: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") in ("record", "enum"):
            found[node["name"]] = node
        for value in node.values():
            _named(value, found)
    elif isinstance(node, list):
        for value in node:
            _named(value, found)
    return found


NAMED = _named(RAW, {})


@pytest.mark.parametrize(
    "enum",
    [taxonomy.Channel, taxonomy.Direction, taxonomy.ActorType, taxonomy.Kind, taxonomy.Outcome],
)
def test_avro_enum_symbols_equal_the_python_enum(enum: type[StrEnum]) -> None:
    assert NAMED[enum.__name__]["symbols"] == [member.value for member in enum]


@pytest.mark.parametrize(
    ("name", "default"),
    [
        ("Channel", "other"),
        ("Kind", "other"),
        ("Outcome", "other"),
        ("Direction", None),
        ("ActorType", None),
    ],
)
def test_enum_defaults(name: str, default: str | None) -> None:
    assert NAMED[name].get("default") == default


@pytest.mark.parametrize(
    "model", [Touchpoint, Source, Actor, Identifiers, SealedPersonal, Attachment]
)
def test_avro_record_fields_cover_the_model(model: type[BaseModel]) -> None:
    avro_fields = {f["name"] for f in NAMED[model.__name__]["fields"]}
    assert set(model.model_fields) <= avro_fields
    extra = avro_fields - set(model.model_fields)
    assert extra == (AVRO_ONLY if model is Touchpoint else set())


def test_optional_model_fields_are_nullable_with_null_default() -> None:
    fields = {f["name"]: f for f in RAW["fields"]}
    for name, info in Touchpoint.model_fields.items():
        if info.default is None:
            assert fields[name]["type"][0] == "null", name
            assert fields[name]["default"] is None, name


def test_every_field_is_documented() -> None:
    for record in (n for n in NAMED.values() if n["type"] == "record"):
        assert record.get("doc"), record["name"]
        for field in record["fields"]:
            assert field.get("doc"), f"{record['name']}.{field['name']}"


def test_schema_names_and_logical_types() -> None:
    assert (RAW["namespace"], RAW["name"]) == ("servicetrace.touchpoint", "Touchpoint")
    fields = {f["name"]: f for f in RAW["fields"]}
    assert fields["event_id"]["type"] == {"type": "string", "logicalType": "uuid"}
    for name in ("occurred_at", "recorded_at"):
        assert fields[name]["type"] == {"type": "long", "logicalType": "timestamp-micros"}
