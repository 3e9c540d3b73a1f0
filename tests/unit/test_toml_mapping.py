"""The declarative TOML mapping: the documented example on an inline CSV, and broken configs."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from events.errors import InvalidRecord, MappingError
from events.identity import IdentifierHasher, source_event_id
from events.intake import Intake
from events.keys.memory import MemoryKeyStore
from events.personal import PersonalVault
from services.ingest.mapping import CsvMapping, load_mapping
from services.ingest.mappings.toml_mapping import TomlMapping

EXAMPLE = Path(__file__).resolve().parents[2] / "services" / "ingest" / "mappings" / "example.toml"

CSV_TEXT = """\
Ticket,Customer No,Name,Phone,Opened,Channel,Type,Category,Description,Closed,Agent,Resolution,Queue
T-1,C-42,Ann,555 0100,2024-03-01 09:31,Phone,Complaint,Outage,No heat,2024-03-01 15:02,ak,Fixed,q
T-2,C-42,Ann,555 0100,2024-07-02 10:00,Pigeon,question,Billing,Why so high?,,,,
T-3,C-7,,,2024-03-01 09:31,Web,Complaint,Outage,x,2024-03-01 08:00,a.kim,Fixed,power
T-4,C-8,,,,Web,Complaint,Outage,x,,,,
T-5,C-9,,,31/12/2024,Web,Complaint,Outage,x,,,,
,C-9,,,2024-03-01 09:31,Web,Complaint,Outage,x,,,,
T-7,,,,2024-03-01 09:31,Web,Complaint,Outage,x,,,,
"""


def _rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(CSV_TEXT)))


def _map(mapping: CsvMapping, index: int) -> list[dict[str, Any]]:
    return mapping.records(_rows()[index], index + 2)


@pytest.fixture
def mapping() -> CsvMapping:
    return load_mapping(str(EXAMPLE))


def test_example_is_loaded_by_path_and_named_after_its_config(mapping: CsvMapping) -> None:
    assert isinstance(mapping, TomlMapping)
    assert mapping.name == "example_crm"


def test_a_closed_ticket_yields_the_request_and_its_closure(mapping: CsvMapping) -> None:
    request, closure = _map(mapping, 0)
    assert request["source"] == {"system": "example_crm", "event_id": "T-1:request"}
    assert request["occurred_at"] == "2024-03-01T09:31:00+01:00"
    assert request["customer"] == {"id": "example:C-42", "name": "Ann", "phone": "555 0100"}
    assert (request["kind"], request["channel"], request["direction"]) == (
        "complaint",
        "phone",
        "inbound",
    )
    assert request["actor"] == {"type": "customer"}
    assert request["service_type"] == "Outage"
    assert request["text"] == "No heat"
    assert request["attributes"] == {"queue": "q"}
    assert closure["source"]["event_id"] == "T-1:closure"
    assert closure["actor"] == {"type": "agent", "id": "ak"}
    assert (closure["kind"], closure["outcome"], closure["case_id"]) == (
        "case_closed",
        "resolved",
        "T-1",
    )
    assert closure["parent_event_id"] == source_event_id("example_crm", "T-1:request")


def test_summer_time_gets_its_own_offset(mapping: CsvMapping) -> None:
    (request,) = _map(mapping, 1)
    assert request["occurred_at"] == "2024-07-02T10:00:00+02:00"


def test_unknown_labels_fall_back_to_the_default_and_keep_the_raw_label(
    mapping: CsvMapping,
) -> None:
    (request,) = _map(mapping, 1)
    assert request["channel"] == "other"
    assert request["attributes"]["raw_channel"] == "Pigeon"
    assert request["kind"] == "inquiry"  # "question" matches "Question" ignoring case
    assert "parent_event_id" not in request


@pytest.mark.parametrize(
    ("index", "reason"),
    [
        (2, "occurs_before_parent"),
        (3, "nothing_to_emit"),
        (4, "unparseable_date"),
        (5, "missing_key"),
        (6, "missing_customer_id"),
    ],
)
def test_impossible_rows_are_rejected_with_a_reason(
    mapping: CsvMapping, index: int, reason: str
) -> None:
    with pytest.raises(InvalidRecord) as caught:
        _map(mapping, index)
    assert caught.value.reason == reason
    assert caught.value.errors and caught.value.errors[0].code == reason


def test_records_become_touchpoints_with_personal_data_sealed(mapping: CsvMapping) -> None:
    fixed = datetime(2025, 1, 1, tzinfo=UTC)
    intake = Intake(IdentifierHasher(b"x" * 16), PersonalVault(MemoryKeyStore()), lambda: fixed)
    request, closure = (intake.touchpoint(r) for r in _map(mapping, 0))
    # The sealed envelope is random bytes that may spell anything; the rest must hold no PII.
    dumped = request.model_dump_json(exclude={"personal"})
    assert "Ann" not in dumped and "555" not in dumped and "No heat" not in dumped
    assert request.personal is not None and request.identifiers.phone is not None
    assert str(closure.parent_event_id) == str(request.event_id)


def test_mapping_twice_gives_the_same_records(mapping: CsvMapping) -> None:
    assert _map(mapping, 0) == _map(load_mapping(str(EXAMPLE)), 0)


MINIMAL = """
source_system = "s"
source_id_column = "id"
[timestamps]
format = "%Y-%m-%d"
timezone = "UTC"
[customer]
id_column = "cust"
[[emit]]
suffix = "request"
when_present = "day"
direction = "inbound"
actor = "customer"
kind = "inquiry"
channel = "web"
service_type = "general"
"""


def test_a_minimal_config_loads() -> None:
    mapping = TomlMapping.from_text(MINIMAL)
    (record,) = mapping.records({"id": "1", "cust": "c", "day": "2024-01-02"}, 2)
    assert record["occurred_at"] == "2024-01-02T00:00:00+00:00"
    assert record["customer"] == {"id": "c"}


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (('channel = "web"', 'channel = "pigeon"'), "Channel vocabulary"),
        (('timezone = "UTC"', 'timezone = "Mars/Olympus"'), "unknown time zone"),
        (('kind = "inquiry"', 'kind = "inquiry"\nknd = "x"'), "unknown keys ['knd']"),
        (('kind = "inquiry"', 'kind = "inquiry"\nparent = "nope"'), "not an earlier emit"),
        (('service_type = "general"', ""), "needs ['service_type']"),
        (('channel = "web"', 'channel = { map = { a = "web" } }'), "column is required"),
        (('id_column = "cust"', 'id_column = "cust"\npersonal = { ssn = "x" }'), "ssn"),
        (('source_system = "s"', ""), "source_system is required"),
        (("[customer]", "[customer\n"), "not valid TOML"),
    ],
)
def test_broken_configs_are_mapping_errors(change: tuple[str, str], complaint: str) -> None:
    with pytest.raises(MappingError, match=None) as caught:
        TomlMapping.from_text(MINIMAL.replace(*change))
    assert complaint in str(caught.value)


def test_unknown_names_and_missing_files_are_mapping_errors(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="nyc311"):
        load_mapping("chicago311")
    with pytest.raises(MappingError):
        load_mapping(str(tmp_path / "absent.toml"))
