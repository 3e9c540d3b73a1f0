"""Intake: validation with specific messages, deterministic ids, hashing and sealing."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.errors import InvalidTouchpoint, KeyDestroyed
from events.identity import IdentifierHasher, source_event_id
from events.intake import Intake
from events.keys.memory import MemoryKeyStore
from events.personal import PersonalVault
from events.taxonomy import Channel, Kind
from events.touchpoint import TEXT_MAX_LENGTH

NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def record(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "occurred_at": "2026-01-05T09:31:00+08:00",
        "source": {"system": "crm", "event_id": "A-17"},
        "customer": {
            "id": "C000123",
            "name": "Li Wei",
            "phone": "+86 138 0013 8000",
            "email": "Li.Wei@Example.com",
            "address": "12 Garden Rd",
        },
        "channel": "phone",
        "direction": "inbound",
        "actor": {"type": "customer"},
        "kind": "complaint",
        "service_type": "Power Outage",
        "text": "third time I call about this outage",
    }
    for key, value in overrides.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return base


@pytest.fixture
def keys() -> MemoryKeyStore:
    return MemoryKeyStore()


@pytest.fixture
def intake(keys: MemoryKeyStore) -> Intake:
    return Intake(IdentifierHasher(b"pepper-for-tests!"), PersonalVault(keys), clock=lambda: NOW)


def rejection(intake: Intake, raw: dict[str, Any]) -> InvalidTouchpoint:
    with pytest.raises(InvalidTouchpoint) as caught:
        intake.touchpoint(raw)
    return caught.value


def test_a_valid_record_becomes_a_canonical_touchpoint(intake: Intake) -> None:
    tp = intake.touchpoint(record())
    assert str(tp.event_id) == source_event_id("crm", "A-17")
    assert tp.channel is Channel.PHONE and tp.kind is Kind.COMPLAINT
    assert tp.service_type == "power_outage"
    assert tp.occurred_at.utcoffset() == timedelta(hours=8)
    assert tp.recorded_at == NOW, "recorded_at defaults to the ingest clock"
    assert tp.customer_id == "C000123"


def test_personal_data_is_never_stored_in_the_clear(intake: Intake) -> None:
    tp = intake.touchpoint(record())
    stored = tp.model_dump_json()
    for secret in ("Li Wei", "138", "Example.com", "example.com", "Garden", "third time"):
        assert secret not in stored
    assert tp.text is None, "the customer's own words are sealed, not plain text"
    assert tp.personal is not None


def test_sealed_personal_data_opens_until_the_key_is_destroyed(
    intake: Intake, keys: MemoryKeyStore
) -> None:
    tp = intake.touchpoint(record())
    assert tp.personal is not None
    vault = PersonalVault(keys)
    opened = vault.open(tp.customer_id, tp.personal)
    assert opened["name"] == "Li Wei"
    assert opened["note"] == "third time I call about this outage"
    keys.destroy(tp.customer_id)
    with pytest.raises(KeyDestroyed):
        vault.open(tp.customer_id, tp.personal)


def test_an_envelope_does_not_open_for_another_customer(
    intake: Intake, keys: MemoryKeyStore
) -> None:
    a = intake.touchpoint(record())
    assert a.personal is not None
    keys.key_for("C-other")
    with pytest.raises(KeyDestroyed):
        PersonalVault(keys).open("C-other", a.personal)


def test_the_same_personal_data_reuses_its_envelope(intake: Intake, keys: MemoryKeyStore) -> None:
    a = intake.touchpoint(record(kind="inquiry", text=None))
    b = intake.touchpoint(
        record(kind="inquiry", text=None, source={"system": "crm", "event_id": "B"})
    )
    c = intake.touchpoint(record(text="another thing", source={"system": "crm", "event_id": "C"}))
    assert a.personal == b.personal, "identical plaintext under one key: one envelope"
    assert c.personal is not None and c.personal.nonce != a.personal.nonce
    assert PersonalVault(keys).open("C000123", c.personal)["note"] == "another thing"


def test_identifiers_are_normalised_before_hashing(intake: Intake) -> None:
    a = intake.touchpoint(record())
    other = record(source={"system": "crm", "event_id": "B-1"})
    other["customer"] = {
        **other["customer"],
        "phone": "+86-138-0013-8000",
        "email": "li.wei@example.COM ",
    }
    b = intake.touchpoint(other)
    assert a.identifiers.phone == b.identifiers.phone and a.identifiers.phone is not None
    assert a.identifiers.email == b.identifiers.email
    assert a.identifiers.account is None


def test_provider_notes_stay_readable(intake: Intake) -> None:
    raw = record(
        kind="callback",
        direction="outbound",
        actor={"type": "agent", "id": "A7"},
        text="called back, crew on site at 14:00",
    )
    tp = intake.touchpoint(raw)
    assert tp.text == "called back, crew on site at 14:00"


def test_without_a_source_id_the_event_id_is_the_content_hash(intake: Intake) -> None:
    raw = record(source={"system": "web"})
    first = intake.touchpoint(raw)
    later = Intake(
        IdentifierHasher(b"pepper-for-tests!"),
        PersonalVault(MemoryKeyStore()),
        clock=lambda: NOW + timedelta(days=1),
    )
    assert later.touchpoint(copy.deepcopy(raw)).event_id == first.event_id
    assert (
        intake.touchpoint(record(source={"system": "web"}, kind="inquiry")).event_id
        != first.event_id
    )


@pytest.mark.parametrize(
    ("overrides", "field", "code", "words"),
    [
        (
            {"direction": "outbound"},
            "record",
            "customer_kind_outbound",
            "complaint cannot be outbound",
        ),
        ({"kind": "feedback", "score": 7}, "score", "score_out_of_range", "1 to 5 (got 7)"),
        ({"kind": "feedback", "score": 0}, "score", "score_out_of_range", "1 to 5"),
        ({"score": 3}, "record", "score_without_feedback", "not on a complaint"),
        ({"occurred_at": "2026-01-05T09:31:00"}, "occurred_at", "timezone_aware", "timezone"),
        ({"wait_seconds": -4}, "wait_seconds", "negative_duration", "cannot be negative"),
        ({"handle_seconds": -0.5}, "handle_seconds", "negative_duration", "cannot be negative"),
        ({"channel": "pigeon"}, "channel", "enum", "phone"),
        ({"kind": None}, "kind", "missing", "required"),
        (
            {"recorded_at": "2026-01-04T00:00:00+00:00"},
            "record",
            "recorded_before_occurred",
            "before occurred_at",
        ),
        (
            {"kind": "callback", "direction": "outbound"},
            "record",
            "provider_kind_by_customer",
            "actor cannot be the customer",
        ),
        ({"unexpected": 1}, "unexpected", "extra_forbidden", "not permitted"),
        ({"customer": None}, "customer", "missing", "customer is required"),
        ({"customer": {"id": "  "}}, "customer.id", "missing", "non-empty"),
        (
            {"customer": {"id": "C1", "shoe_size": "42"}},
            "customer.shoe_size",
            "extra_forbidden",
            "unknown",
        ),
        ({"source": {"event_id": "x"}}, "source.system", "missing", "required"),
        (
            {"attachments": [{"uri": "s3://a", "media_type": "audio/wav", "sha256": "xyz"}]},
            "attachments.0.sha256",
            "string_pattern_mismatch",
            "pattern",
        ),
    ],
)
def test_bad_records_are_rejected_with_a_specific_reason(
    intake: Intake, overrides: dict[str, Any], field: str, code: str, words: str
) -> None:
    raw = record()
    raw.update({k: v for k, v in overrides.items() if v is not None})
    for key in [k for k, v in overrides.items() if v is None]:
        raw.pop(key)
    error = rejection(intake, raw)
    assert error.reason == code
    assert error.errors[0].field == field
    assert words in error.errors[0].message
    assert "Li Wei" not in str(error) and "138 0013" not in str(error)


def test_a_record_that_is_not_an_object_is_rejected(intake: Intake) -> None:
    assert rejection(intake, ["a", "list"]).reason == "not_an_object"  # type: ignore[arg-type]


def test_touchpoints_are_immutable(intake: Intake) -> None:
    tp = intake.touchpoint(record())
    with pytest.raises(Exception, match="frozen"):
        tp.kind = Kind.INQUIRY  # type: ignore[misc]


def test_the_original_offset_is_kept(intake: Intake) -> None:
    tp = intake.touchpoint(
        record(occurred_at="2026-01-05T09:31:00-05:00", recorded_at="2026-01-05T16:00:00+01:00")
    )
    assert tp.occurred_at.tzinfo is not None
    assert tp.occurred_at.utcoffset() == timedelta(hours=-5)
    assert tp.recorded_at.astimezone(UTC).hour == 15
    json.loads(tp.model_dump_json())


def test_event_ids_are_name_based_uuids() -> None:
    import uuid

    from events.identity import EVENT_NAMESPACE

    for name in ("A-17", "s7-e123-4", "ünïcode", ""):
        expected = uuid.uuid5(EVENT_NAMESPACE, f"crm\x1f{name}")
        assert source_event_id("crm", name) == str(expected)
        assert uuid.UUID(source_event_id("crm", name)).version == 5


def test_a_customers_text_over_the_length_limit_is_rejected_by_field(intake: Intake) -> None:
    """The customer's words are sealed, not exempt from the limit on free text."""
    too_long = rejection(intake, record(text="x" * (TEXT_MAX_LENGTH + 1)))
    assert "text" in str(too_long)
    assert intake.touchpoint(record(text="x" * TEXT_MAX_LENGTH)).personal is not None
