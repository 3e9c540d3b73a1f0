"""The NYC and LA 311 mappings on the real exports: every row accounted for, nothing personal out.

The files live in the shared data directory next to the repository (see their SOURCE.md).
Without them the tests skip locally and fail under ``CI=true``, where they must be present.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest

from events.errors import InvalidRecord
from events.identity import IdentifierHasher
from events.intake import Intake
from events.keys.memory import MemoryKeyStore
from events.personal import PersonalVault
from events.touchpoint import Touchpoint
from services.ingest.mapping import load_mapping

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
FILES = {
    "nyc311": REAL / "nyc311" / "nyc311_2023-02-28_sample.csv",
    "la311": REAL / "la311" / "MyLA311_Service_Request_Data_2017_Subset.csv",
}
KEY_COLUMNS = {"nyc311": "Unique Key", "la311": "SRNumber"}
PREFIXES = {"nyc311": "nyc", "la311": "la"}
#: Later than every close date in both files, so recorded_at never precedes occurred_at.
FIXED_NOW = datetime(2024, 6, 1, tzinfo=UTC)


def _require(path: Path) -> Path:
    if path.is_file():
        return path
    message = f"real 311 data missing: {path} (expected /work/shared/data/real next to the repo)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _rows(name: str) -> Iterator[tuple[int, dict[str, str]]]:
    # The NYC export carries cp1252 mojibake *as UTF-8 text*: it decodes strictly as UTF-8.
    with _require(FILES[name]).open(encoding="utf-8", newline="") as handle:
        yield from enumerate(csv.DictReader(handle), start=2)


@dataclass
class Ingested:
    rows: int = 0
    mapped: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    rejected_keys: dict[str, str] = field(default_factory=dict)
    touchpoints: list[Touchpoint] = field(default_factory=list)
    #: event id -> the address its submitted record carried in the clear.
    addresses: dict[UUID, str] = field(default_factory=dict)

    def of_kind(self, kind: str) -> list[Touchpoint]:
        return [t for t in self.touchpoints if t.kind.value == kind]

    def requests(self) -> list[Touchpoint]:
        return [t for t in self.touchpoints if t.direction.value == "inbound"]


def _ingest(name: str) -> Ingested:
    mapping = load_mapping(name)
    intake = Intake(IdentifierHasher(b"x" * 16), PersonalVault(MemoryKeyStore()), lambda: FIXED_NOW)
    result = Ingested()
    for line, row in _rows(name):
        result.rows += 1
        try:
            records = mapping.records(row, line)
        except InvalidRecord as exc:
            assert exc.reason and exc.errors, f"line {line}: a rejection without a reason"
            result.rejected[exc.reason] += 1
            result.rejected_keys[row[KEY_COLUMNS[name]]] = exc.reason
            continue
        result.mapped += 1
        for record in records:
            touchpoint = intake.touchpoint(record)
            result.touchpoints.append(touchpoint)
            if "address" in record["customer"]:
                result.addresses[touchpoint.event_id] = record["customer"]["address"]
    return result


@pytest.fixture(scope="module", params=sorted(FILES))
def ingested(request: pytest.FixtureRequest) -> tuple[str, Ingested]:
    return request.param, _ingest(request.param)


def test_every_row_is_mapped_or_rejected(ingested: tuple[str, Ingested]) -> None:
    _, result = ingested
    assert result.rows == result.mapped + sum(result.rejected.values())
    assert result.mapped > 0.99 * result.rows


def test_every_touchpoint_is_a_request_or_its_closure(ingested: tuple[str, Ingested]) -> None:
    name, result = ingested
    requests = result.requests()
    closures = result.of_kind("case_closed")
    assert len(result.touchpoints) == len(requests) + len(closures)
    assert len(requests) == result.mapped
    expected_kind = {"nyc311": "complaint", "la311": "service_request"}[name]
    assert {t.kind.value for t in requests} == {expected_kind}
    by_id = {str(t.event_id): t for t in requests}
    for closure in closures:
        parent = by_id[str(closure.parent_event_id)]
        assert parent.case_id == closure.case_id
        assert closure.occurred_at >= parent.occurred_at
        assert closure.actor.type.value == "agent" and closure.actor.id
        assert closure.source.event_id == f"{closure.case_id}:closure"


def test_closed_before_created_rows_are_rejected(ingested: tuple[str, Ingested]) -> None:
    name, result = ingested
    assert set(result.rejected) == {"closed_before_created"}
    if name == "nyc311":
        # The first row: created 02/28/2023 11:45 PM, "closed" 01/01/2023 01:00 AM.
        assert result.rejected_keys["56923577"] == "closed_before_created"


def test_the_rejection_message_names_both_times_and_the_row() -> None:
    row = next(row for _, row in _rows("nyc311"))
    with pytest.raises(InvalidRecord) as caught:
        load_mapping("nyc311").records(row, 2)
    message = str(caught.value)
    assert "56923577" in message
    assert "2023-01-01T01:00:00-05:00" in message and "2023-02-28T23:45:00-05:00" in message


def test_channel_mix(ingested: tuple[str, Ingested]) -> None:
    name, result = ingested
    channels = Counter(
        t.channel.value for t in result.touchpoints if t.direction.value == "inbound"
    )
    assert {"phone", "web", "app"} <= set(channels)
    if name == "la311":
        assert channels["field"] > 0 and channels["email"] > 0
        raw = {t.attributes.get("raw_channel") for t in result.requests() if t.channel == "other"}
        assert raw == {"Council's Office"}


def test_location_keys(ingested: tuple[str, Ingested]) -> None:
    name, result = ingested
    keys = Counter(t.attributes["location_key"] for t in result.requests())
    expected = {"nyc311": {"bbl", "address", "intersection", "request"}, "la311": {"address"}}
    assert set(keys) == expected[name]
    for touchpoint in result.requests():
        tag = {"bbl": "bbl", "address": "addr", "intersection": "int", "request": "sr"}
        prefix = f"{PREFIXES[name]}:{tag[touchpoint.attributes['location_key']]}:"
        assert touchpoint.customer_id.startswith(prefix)


def test_event_ids_are_deterministic(ingested: tuple[str, Ingested]) -> None:
    name, result = ingested
    again = _ingest(name)
    assert [t.event_id for t in again.touchpoints] == [t.event_id for t in result.touchpoints]
    assert len({t.event_id for t in result.touchpoints}) == len(result.touchpoints)


def test_no_address_is_stored_in_the_clear(ingested: tuple[str, Ingested]) -> None:
    _, result = ingested
    assert result.addresses, "the mapping should have carried addresses to seal"
    sealed = [t for t in result.touchpoints if t.event_id in result.addresses]
    assert all(t.personal is not None for t in sealed)
    leaked = [
        t.case_id for t in sealed if _street(result.addresses[t.event_id]) in t.model_dump_json()
    ]
    assert not leaked, f"addresses in the clear in requests {leaked[:3]}"


def _street(address: str) -> str:
    """The most identifying part of a normalised address: the street (without the ZIP)."""
    return address.split(", ", maxsplit=1)[0]
