"""The bulk-ingest path (validated fields, no Touchpoint model) is the model path, byte for byte.

Bulk admission (:meth:`Intake.touchpoint_fields` + :meth:`TouchpointSerde.encode_fields`) must
accept exactly what :meth:`Intake.touchpoint` accepts, with the same event ids and the same Avro
bytes, and reject everything else with the same reasons, fields and messages. Checked over
generated records and the same records randomly mutated (wrong types, missing and extra fields,
odd timestamps and ids, incoherent combinations), at the intake and at the admission level.
"""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.errors import FieldError, InvalidRecord
from events.identity import IdentifierHasher, source_event_id
from events.intake import Intake
from events.keys.memory import MemoryKeyStore
from events.log import Entry
from events.personal import PersonalVault
from schemas.serde import TouchpointSerde
from services.generate import generate
from services.ingest.admission import Admitted, admit_all
from services.ingest.submission import Submission

NOW = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)

Outcome = tuple[Any, ...]


@pytest.fixture(scope="module")
def serde() -> TouchpointSerde:
    return TouchpointSerde()


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return list(islice(generate(customers=60, days=20, seed=11), 1500))


def _intake() -> Intake:
    hasher = IdentifierHasher(b"pepper-for-bulk-tests")
    return Intake(hasher, PersonalVault(MemoryKeyStore()), clock=lambda: NOW)


def _model_outcome(intake: Intake, serde: TouchpointSerde, record: Any) -> Outcome:
    try:
        tp = intake.touchpoint(record)
    except Exception as exc:  # the outcome is compared, whatever it is
        return _failure(exc)
    return "accepted", str(tp.event_id), tp.customer_id, serde.encode(tp)


def _bulk_outcome(intake: Intake, serde: TouchpointSerde, record: Any) -> Outcome:
    try:
        fields = intake.touchpoint_fields(record)
    except Exception as exc:
        return _failure(exc)
    return "accepted", fields["event_id"], fields["customer_id"], serde.encode_fields(fields)


def _failure(exc: Exception) -> Outcome:
    errors = tuple(getattr(exc, "errors", ()))
    return "rejected", type(exc).__name__, getattr(exc, "reason", str(exc)), errors


def _compare(records: list[Any], serde: TouchpointSerde) -> list[Outcome]:
    """Each record through both paths (bulk first: it must not lean on the model's caches;
    the model then reuses the same sealed envelopes, so the bytes are comparable)."""
    intake = _intake()
    outcomes = []
    for record in records:
        bulk = _bulk_outcome(intake, serde, copy.deepcopy(record))
        model = _model_outcome(intake, serde, copy.deepcopy(record))
        assert bulk == model, (record, bulk, model)
        outcomes.append(model)
    return outcomes


# --- random mutations ----------------------------------------------------------------------------

_JUNK: list[Any] = [
    None,
    "",
    "   ",
    0,
    -1,
    1.5,
    True,
    [],
    {},
    ["a"],
    {"a": "b"},
    "x" * 300,
    "ÿ̈ 中文",
    "2026-01-05T09:31:00",
    1767600000,
]
_TIMES = [
    "2026-01-05T09:31:00Z",
    "2026-01-05T09:31:00+05:45",
    "2026-01-05T09:31:00.123456-09:30",
    "2026-01-05T09:31:00.1234567+08:00",
    "2026-01-05 09:31:00+08:00",
    "2026-01-05T09:31:00",
    "2026-13-05T09:31:00+08:00",
    "2026-01-05T09:31+08:00",
    "2027-01-05T09:31:00+14:00",
    1767600000,
    "1767600000",
]
_IDS = [
    "6f1c2a4e-3b7d-5c9e-8f10-5e1f7ace0001",
    "6F1C2A4E-3B7D-5C9E-8F10-5E1F7ACE0001",
    "{6f1c2a4e-3b7d-5c9e-8f10-5e1f7ace0001}",
    "urn:uuid:6f1c2a4e-3b7d-5c9e-8f10-5e1f7ace0001",
    "6f1c2a4e3b7d5c9e8f105e1f7ace0001",
    " 6f1c2a4e-3b7d-5c9e-8f10-5e1f7ace0001 ",
    "not-a-uuid",
    "",
    12,
]
_ACTORS: list[Any] = [
    {"type": "agent", "id": "A-7"},
    {"type": "customer"},
    {"type": "bot", "id": ""},
    {"type": "robot"},
    {"type": "system", "extra": 1},
    "customer",
    {"type": "agent", "id": " A-7 "},
]
_ATTACHMENT = {"uri": "s3://b/k.pdf", "media_type": "application/pdf", "sha256": "ab" * 32}


def _top_key(rng: random.Random, record: dict[str, Any]) -> str:
    return rng.choice(sorted(record))


def _drop(rng: random.Random, record: dict[str, Any]) -> None:
    del record[_top_key(rng, record)]


def _junk(rng: random.Random, record: dict[str, Any]) -> None:
    record[_top_key(rng, record)] = rng.choice(_JUNK)


def _pad(rng: random.Random, record: dict[str, Any]) -> None:
    key = _top_key(rng, record)
    if isinstance(record[key], str):
        record[key] = rng.choice(["  {}  ", "{}\n", "{}".upper(), "\t{}"]).format(record[key])


def _time(rng: random.Random, record: dict[str, Any]) -> None:
    record[rng.choice(["occurred_at", "recorded_at"])] = rng.choice(_TIMES)


def _no_recorded_at(rng: random.Random, record: dict[str, Any]) -> None:
    record.pop("recorded_at", None)


def _swap_times(rng: random.Random, record: dict[str, Any]) -> None:
    record["occurred_at"], record["recorded_at"] = (
        record.get("recorded_at"),
        record.get("occurred_at"),
    )


def _event_id(rng: random.Random, record: dict[str, Any]) -> None:
    record["event_id"] = rng.choice(_IDS)


def _self_parent(rng: random.Random, record: dict[str, Any]) -> None:
    source = record["source"]
    if isinstance(source, dict) and "event_id" in source:
        record["parent_event_id"] = source_event_id(source["system"], str(source["event_id"]))


def _source(rng: random.Random, record: dict[str, Any]) -> None:
    source = record["source"] = dict(record["source"])
    choice = rng.randrange(5)
    if choice == 0:
        source.pop("event_id", None)  # the id then comes from the content
    elif choice == 1:
        source["system"] = rng.choice(["a b", "", "x" * 65, 7, "crm "])
    elif choice == 2:
        source["event_id"] = rng.choice([17, "", "  ", "e" * 257])
    elif choice == 3:
        source["extra"] = "field"
    else:
        record["source"] = rng.choice(_JUNK)


def _customer(rng: random.Random, record: dict[str, Any]) -> None:
    customer = record["customer"] = dict(record["customer"])
    choice = rng.randrange(4)
    if choice == 0:
        customer["id"] = rng.choice(["", "  ", " C-1 ", None, 5])
    elif choice == 1:
        customer[rng.choice(["phone", "email", "name"])] = rng.choice(["", None, 12, " @x "])
    elif choice == 2:
        customer["nickname"] = "Al"
    else:
        customer.pop("id", None)


def _actor(rng: random.Random, record: dict[str, Any]) -> None:
    record["actor"] = copy.deepcopy(rng.choice(_ACTORS))


def _text(rng: random.Random, record: dict[str, Any]) -> None:
    record["text"] = rng.choice(["words", "w" * 10_001, ["a"], {"a": 1}, "", " spaced "])


def _numbers(rng: random.Random, record: dict[str, Any]) -> None:
    key = rng.choice(["score", "wait_seconds", "handle_seconds"])
    record[key] = rng.choice([0, 1, 5, 6, -3, 2.0, 4.5, "4", "12", 1e308, True, None])


def _kind(rng: random.Random, record: dict[str, Any]) -> None:
    record["kind"] = rng.choice(["complaint", "feedback", "callback", "survey_sent", "nope"])
    record["direction"] = rng.choice(["inbound", "outbound", "sideways"])


def _enums(rng: random.Random, record: dict[str, Any]) -> None:
    key = rng.choice(["channel", "direction", "kind", "outcome", "service_type"])
    value = record.get(key)
    record[key] = rng.choice(
        [str(value).upper(), f" {value} ", "Power  Outage", "", "x" * 129, None]
    )


def _attachments(rng: random.Random, record: dict[str, Any]) -> None:
    bad = dict(_ATTACHMENT, media_type=rng.choice(["PDF", "application/pdf", "a/b/c"]))
    record["attachments"] = rng.choice(
        [[_ATTACHMENT], [_ATTACHMENT, bad], [_ATTACHMENT] * 33, [dict(_ATTACHMENT, x=1)], "a"]
    )


def _attributes(rng: random.Random, record: dict[str, Any]) -> None:
    record["attributes"] = rng.choice(
        [{"k": "v"}, {"k": 1}, {f"k{i}": "v" for i in range(65)}, {"k": {"n": 1}}, {" k ": " v "}]
    )


def _extra(rng: random.Random, record: dict[str, Any]) -> None:
    record[rng.choice(["colour", "schema_version", "identifiers", "personal", "customer_id"])] = (
        rng.choice([1, "x", None])
    )


MUTATIONS = (
    _drop,
    _junk,
    _pad,
    _time,
    _no_recorded_at,
    _swap_times,
    _event_id,
    _self_parent,
    _source,
    _customer,
    _actor,
    _text,
    _numbers,
    _kind,
    _enums,
    _attachments,
    _attributes,
    _extra,
)


def mutated(records: list[dict[str, Any]], count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` records, each a generated one with one to three random mutations."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        record = copy.deepcopy(rng.choice(records))
        for _ in range(rng.randint(1, 3)):
            if isinstance(record.get("source"), dict) and isinstance(record.get("customer"), dict):
                rng.choice(MUTATIONS)(rng, record)
        out.append(record)
    return out


# --- the tests -----------------------------------------------------------------------------------


def test_generated_records_are_accepted_identically(
    records: list[dict[str, Any]], serde: TouchpointSerde
) -> None:
    outcomes = _compare(records, serde)
    assert all(outcome[0] == "accepted" for outcome in outcomes)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mutated_records_get_identical_outcomes(
    records: list[dict[str, Any]], serde: TouchpointSerde, seed: int
) -> None:
    outcomes = _compare(mutated(records, 1500, seed), serde)
    accepted = sum(outcome[0] == "accepted" for outcome in outcomes)
    reasons = {outcome[2] for outcome in outcomes if outcome[0] == "rejected"}
    # The mutations must exercise both sides, and many distinct rules.
    assert 200 < accepted < 1300, accepted
    assert len(reasons) >= 12, reasons


def test_bulk_fields_are_the_models_fields(records: list[dict[str, Any]]) -> None:
    intake = _intake()
    for record in records[:300] + mutated(records, 300, 4):
        try:
            tp = intake.touchpoint(copy.deepcopy(record))
        except InvalidRecord:
            continue
        fields = intake.touchpoint_fields(copy.deepcopy(record))
        assert fields == {**tp.__dict__, "event_id": str(tp.event_id)}


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), value=_json)
def test_any_json_value_in_any_field_gets_identical_outcomes(
    records: list[dict[str, Any]], serde: TouchpointSerde, data: st.DataObject, value: Any
) -> None:
    record = copy.deepcopy(data.draw(st.sampled_from(records[:200])))
    key = data.draw(st.sampled_from([*sorted(record), "event_id", "score", "attachments"]))
    record[key] = value
    _compare([record], serde)


# --- admission: what the pipeline and the workers run --------------------------------------------


def _reference_admit(intake: Intake, serde: TouchpointSerde, submission: Submission) -> Admitted:
    """Admission as it was before the bulk path: a model per touchpoint, encoded."""
    try:
        touchpoints = [intake.touchpoint(r) for r in submission.touchpoint_records()]
    except InvalidRecord as exc:
        return Admitted(reason=exc.reason, errors=tuple(exc.errors))
    except Exception as exc:  # mirrors admission's unexpected_error
        error = FieldError("record", "unexpected_error", f"{type(exc).__name__}: {exc}")
        return Admitted(reason="unexpected_error", errors=(error,))
    return Admitted(
        tuple(Entry(str(tp.event_id), tp.customer_id, serde.encode(tp)) for tp in touchpoints)
    )


def test_admission_matches_the_model_path(
    records: list[dict[str, Any]], serde: TouchpointSerde
) -> None:
    lines = [orjson.dumps(r).decode() for r in records[:400] + mutated(records, 600, 5)]
    lines += ['{"cut": ', "[1, 2]", "plain text"]
    chunk = [Submission("t", n, line) for n, line in enumerate(lines, start=1)]
    intake = _intake()
    bulk = admit_all(intake, serde, chunk)
    reference = [_reference_admit(intake, serde, submission) for submission in chunk]
    assert bulk == reference
    assert sum(a.rejected for a in bulk) > 100
    assert sum(not a.rejected for a in bulk) > 400
