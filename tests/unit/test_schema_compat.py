"""The BACKWARD_TRANSITIVE checker, and proof that its verdicts match what fastavro really does.

Each case is (writer schema, reader schema, a datum written with the writer). For compatible
cases the checker finds nothing *and* fastavro decodes the datum with the reader schema; for
incompatible ones the checker names the path and the reason *and* fastavro fails on the datum.
"""

from __future__ import annotations

import copy
import io
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastavro
import pytest

from events.errors import IncompatibleSchema, SchemaError, UnknownSchemaId
from schemas import FileSchemaRegistry, TouchpointSerde, check_all, check_compatible, check_subject
from schemas.compat import candidate_problems, subject_problems
from schemas.serde import TOUCHPOINT_SUBJECT
from tests.unit.avro_samples import rich_touchpoint

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
TOUCHPOINT_V1: dict[str, Any] = json.loads((SCHEMAS / "touchpoint.v1.avsc").read_text())


def record(*fields: dict[str, Any], name: str = "Rec", **extra: Any) -> dict[str, Any]:
    return {"type": "record", "name": name, "namespace": "test", "fields": list(fields), **extra}


def field(name: str, type_: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **extra}


def enum(*symbols: str, **extra: Any) -> dict[str, Any]:
    return {"type": "enum", "name": "E", "symbols": list(symbols), **extra}


def round_trip(writer: Any, reader: Any, datum: Any) -> Any:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(copy.deepcopy(writer)), datum)
    buffer.seek(0)
    return fastavro.schemaless_reader(
        buffer,
        fastavro.parse_schema(copy.deepcopy(writer)),
        fastavro.parse_schema(copy.deepcopy(reader)),
    )


@dataclass(frozen=True)
class Case:
    writer: Any
    reader: Any
    datum: Any
    expected: Any = None  # compatible cases: what the reader sees
    path: str = ""  # incompatible cases: where the checker points
    message: str = ""  # ... and a fragment of what it says


COMPATIBLE = {
    "add field with default": Case(
        record(field("a", "int")),
        record(field("a", "int"), field("b", "string", default="x")),
        {"a": 1},
        {"a": 1, "b": "x"},
    ),
    "add nullable field": Case(
        record(field("a", "int")),
        record(field("a", "int"), field("b", ["null", "long"], default=None)),
        {"a": 1},
        {"a": 1, "b": None},
    ),
    "remove field": Case(
        record(field("a", "int"), field("b", "string")),
        record(field("a", "int")),
        {"a": 1, "b": "gone"},
        {"a": 1},
    ),
    "add enum symbol": Case(
        record(field("e", enum("A", "B"))),
        record(field("e", enum("A", "B", "C"))),
        {"e": "B"},
        {"e": "B"},
    ),
    "remove enum symbol, reader has default": Case(
        record(field("e", enum("A", "B", "other"))),
        record(field("e", enum("A", "other", default="other"))),
        {"e": "B"},
        {"e": "other"},
    ),
    "int to long": Case(record(field("a", "int")), record(field("a", "long")), {"a": 7}, {"a": 7}),
    "int to double": Case(
        record(field("a", "int")), record(field("a", "double")), {"a": 7}, {"a": 7.0}
    ),
    "float to double": Case(
        record(field("a", "float")), record(field("a", "double")), {"a": 0.5}, {"a": 0.5}
    ),
    "string to bytes": Case(
        record(field("a", "string")), record(field("a", "bytes")), {"a": "hi"}, {"a": b"hi"}
    ),
    "bytes to string": Case(
        record(field("a", "bytes")), record(field("a", "string")), {"a": b"hi"}, {"a": "hi"}
    ),
    "value becomes nullable": Case(
        record(field("a", "string")),
        record(field("a", ["null", "string"], default=None)),
        {"a": "x"},
        {"a": "x"},
    ),
    "union gains a branch": Case(
        record(field("a", ["null", "int"])),
        record(field("a", ["null", "string", "long"])),
        {"a": 3},
        {"a": 3},
    ),
    "array items int to long": Case(
        record(field("xs", {"type": "array", "items": "int"})),
        record(field("xs", {"type": "array", "items": "long"})),
        {"xs": [1, 2]},
        {"xs": [1, 2]},
    ),
    "nested record adds field with default": Case(
        record(field("n", record(field("a", "int"), name="Inner"))),
        record(field("n", record(field("a", "int"), field("b", "int", default=0), name="Inner"))),
        {"n": {"a": 1}},
        {"n": {"a": 1, "b": 0}},
    ),
    "field renamed with alias": Case(
        record(field("old", "int")),
        record(field("new", "int", aliases=["old"])),
        {"old": 5},
        {"new": 5},
    ),
    "record renamed with alias": Case(
        record(field("a", "int"), name="Before"),
        record(field("a", "int"), name="After", aliases=["Before"]),
        {"a": 1},
        {"a": 1},
    ),
    "named type reference": Case(
        record(field("x", enum("A", "B")), field("y", "test.E")),
        record(field("x", enum("A", "B", "C")), field("y", "E")),
        {"x": "A", "y": "B"},
        {"x": "A", "y": "B"},
    ),
}

INCOMPATIBLE = {
    "add field without default": Case(
        record(field("a", "int")),
        record(field("a", "int"), field("b", "string")),
        {"a": 1},
        path="Rec.b",
        message="'b' is not in the writer schema and has no default",
    ),
    "remove enum symbol without default": Case(
        record(field("e", enum("A", "B"))),
        record(field("e", enum("A"))),
        {"e": "B"},
        path="Rec.e",
        message="writer symbols ['B'] are not in reader enum E, which has no default",
    ),
    "string to int": Case(
        record(field("a", "string")),
        record(field("a", "int")),
        {"a": "x"},
        path="Rec.a",
        message="writer type string cannot be read as int",
    ),
    "long to int": Case(
        record(field("a", "long")),
        record(field("a", "int")),
        {"a": 1},
        path="Rec.a",
        message="writer type long cannot be read as int",
    ),
    "nullable becomes required": Case(
        record(field("a", ["null", "string"], default=None)),
        record(field("a", "string")),
        {"a": None},
        path="Rec.a",
        message="writer type null cannot be read as string",
    ),
    "array items string to int": Case(
        record(field("xs", {"type": "array", "items": "string"})),
        record(field("xs", {"type": "array", "items": "int"})),
        {"xs": ["a"]},
        path="Rec.xs[]",
        message="writer type string cannot be read as int",
    ),
    "map values string to long": Case(
        record(field("m", {"type": "map", "values": "string"})),
        record(field("m", {"type": "map", "values": "long"})),
        {"m": {"k": "v"}},
        path="Rec.m{}",
        message="writer type string cannot be read as long",
    ),
    "fixed size changed": Case(
        record(field("f", {"type": "fixed", "name": "F", "size": 4})),
        record(field("f", {"type": "fixed", "name": "F", "size": 8})),
        {"f": b"abcd"},
        path="Rec.f",
        message="fixed size changed from 4 to 8 bytes",
    ),
    "record renamed without alias": Case(
        record(field("a", "int"), name="Before"),
        record(field("a", "int"), name="After"),
        {"a": 1},
        path="After",
        message="names differ and the reader has no alias 'Before'",
    ),
    "union loses a used branch": Case(
        record(field("a", ["null", "int", "string"])),
        record(field("a", ["null", "int"])),
        {"a": "x"},
        path="Rec.a",
        message="writer type string matches no branch of reader union [null, int]",
    ),
}


@pytest.mark.parametrize("case", COMPATIBLE.values(), ids=COMPATIBLE.keys())
def test_compatible_change_passes_and_really_decodes(case: Case) -> None:
    assert check_compatible(case.reader, case.writer) == []
    assert round_trip(case.writer, case.reader, case.datum) == case.expected


@pytest.mark.parametrize("case", INCOMPATIBLE.values(), ids=INCOMPATIBLE.keys())
def test_incompatible_change_is_named_and_really_fails(case: Case) -> None:
    problems = check_compatible(case.reader, case.writer)
    assert [p.path for p in problems] == [case.path]
    assert case.message in problems[0].message
    with pytest.raises(Exception):  # noqa: B017 - fastavro raises several types
        round_trip(case.writer, case.reader, case.datum)


def test_every_problem_is_reported_not_just_the_first() -> None:
    writer = record(field("a", "string"), field("e", enum("A", "B")))
    reader = record(field("a", "int"), field("e", enum("A")), field("c", "long"))
    assert [str(p).split(":")[0] for p in check_compatible(reader, writer)] == [
        "Rec.a",
        "Rec.e",
        "Rec.c",
    ]


def test_recursive_types_terminate() -> None:
    node: dict[str, Any] = {
        "type": "record",
        "name": "Node",
        "fields": [field("value", "int"), field("next", ["null", "Node"], default=None)],
    }
    wider = copy.deepcopy(node)
    wider["fields"][0]["type"] = "long"
    assert check_compatible(wider, node) == []
    assert [p.path for p in check_compatible(node, wider)] == ["Node.value"]


def test_unknown_type_name_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="unknown type name 'Missing'"):
        check_compatible(record(field("a", "Missing")), record(field("a", "int")))


# --- the real touchpoint schema ------------------------------------------------------------------


def test_every_registered_schema_is_backward_transitive() -> None:
    check_all(FileSchemaRegistry.load())


def test_every_avsc_in_schemas_is_registered() -> None:
    registered = {entry.file for entry in FileSchemaRegistry.load()}
    assert {p.name for p in SCHEMAS.glob("*.avsc")} == registered


def _touchpoint_field(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in schema["fields"] if f["name"] == name)


def _evolved(change: str) -> dict[str, Any]:
    schema = copy.deepcopy(TOUCHPOINT_V1)
    if change == "compatible":
        schema["fields"].append(field("language", ["null", "string"], default=None))
        symbols = _touchpoint_field(schema, "channel")["type"]["symbols"]
        symbols.insert(-1, "kiosk")
        _touchpoint_field(schema, "score")["type"] = ["null", "long"]
    elif change == "drop direction symbol":
        _touchpoint_field(schema, "direction")["type"]["symbols"].remove("internal")
    elif change == "drop actor type symbol":
        actor = _touchpoint_field(schema, "actor")["type"]
        actor["fields"][0]["type"]["symbols"].remove("bot")
    elif change == "required field":
        schema["fields"].append(field("priority", "int"))
    return schema


def test_touchpoint_v2_compatible_change_reads_real_v1_bytes() -> None:
    v2 = _evolved("compatible")
    assert check_compatible(v2, TOUCHPOINT_V1) == []
    data = TouchpointSerde().encode(rich_touchpoint())
    decoded: Any = fastavro.schemaless_reader(
        io.BytesIO(data[5:]), fastavro.parse_schema(TOUCHPOINT_V1), fastavro.parse_schema(v2)
    )
    assert decoded["language"] is None
    assert decoded["channel"] == "phone"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ("drop direction symbol", "Touchpoint.direction"),
        ("drop actor type symbol", "Touchpoint.actor.type"),
        ("required field", "Touchpoint.priority"),
    ],
)
def test_touchpoint_incompatible_changes_name_their_field(change: str, path: str) -> None:
    assert [p.path for p in check_compatible(_evolved(change), TOUCHPOINT_V1)] == [path]


def test_enum_default_lets_old_readers_survive_new_channel_symbols() -> None:
    """Forward direction, for consumers still on v1: 'kiosk' decodes as the default 'other'."""
    v2 = copy.deepcopy(TOUCHPOINT_V1)
    _touchpoint_field(v2, "channel")["type"]["symbols"].insert(-1, "kiosk")
    assert check_compatible(TOUCHPOINT_V1, v2) == []  # v1 reader, v2 writer
    data = {**TouchpointSerde().decode_dict(TouchpointSerde().encode(rich_touchpoint()))}
    data["channel"] = "kiosk"
    assert round_trip(v2, TOUCHPOINT_V1, data)["channel"] == "other"
    # ... while the int -> long promotion only works one way round:
    [problem] = check_compatible(TOUCHPOINT_V1, _evolved("compatible"))
    assert problem.path == "Touchpoint.score"


# --- registries, the CLI ------------------------------------------------------------------------


def _registry(tmp_path: Path, *versions: dict[str, Any]) -> Path:
    """A registry holding v1 of the touchpoint subject followed by ``versions``."""
    shutil.copy(SCHEMAS / "touchpoint.v1.avsc", tmp_path / "touchpoint.v1.avsc")
    entries = [{"id": 1, "subject": TOUCHPOINT_SUBJECT, "version": 1, "file": "touchpoint.v1.avsc"}]
    for number, schema in enumerate(versions, start=2):
        file = f"touchpoint.v{number}.avsc"
        (tmp_path / file).write_text(json.dumps(schema))
        entries.append(
            {"id": number, "subject": TOUCHPOINT_SUBJECT, "version": number, "file": file}
        )
    path = tmp_path / "registry.json"
    path.write_text(json.dumps({"schemas": entries}))
    return path


def test_check_is_transitive_over_all_earlier_versions(tmp_path: Path) -> None:
    # v2 adds a field with a default; v3 drops the default. v3 reads v2 (which wrote the field)
    # but not v1: only a transitive check, not "against the previous version", catches that.
    v2 = copy.deepcopy(TOUCHPOINT_V1)
    v2["fields"].append(field("priority", "int", default=0))
    v3 = copy.deepcopy(v2)
    del v3["fields"][-1]["default"]
    registry = FileSchemaRegistry.load(_registry(tmp_path, v2, v3))
    problems = subject_problems(registry, TOUCHPOINT_SUBJECT)
    assert [(p.reader_version, p.writer_version, p.problem.path) for p in problems] == [
        (3, 1, "Touchpoint.priority")
    ]
    with pytest.raises(IncompatibleSchema, match=r"v3 cannot read v1: Touchpoint\.priority"):
        check_subject(registry, TOUCHPOINT_SUBJECT)
    with pytest.raises(IncompatibleSchema):
        check_all(registry)


def test_candidate_is_checked_before_it_is_registered() -> None:
    registry = FileSchemaRegistry.load()
    assert candidate_problems(registry, TOUCHPOINT_SUBJECT, _evolved("compatible")) == []
    [problem] = candidate_problems(registry, TOUCHPOINT_SUBJECT, _evolved("required field"))
    assert (problem.reader_version, problem.writer_version) == (2, 1)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "schemas.compat", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_cli_passes_on_the_packaged_registry() -> None:
    result = _cli()
    assert result.returncode == 0, result.stderr
    subjects = len(FileSchemaRegistry.load().subjects())
    assert subjects >= 3  # touchpoints, alerts, flags
    assert f"ok: {subjects} subject(s)" in result.stdout


def test_cli_fails_on_an_incompatible_registry(tmp_path: Path) -> None:
    result = _cli("--registry", str(_registry(tmp_path, _evolved("drop direction symbol"))))
    assert result.returncode == 1
    assert "Touchpoint.direction" in result.stderr
    assert "['internal']" in result.stderr


def test_cli_reports_an_unloadable_registry(tmp_path: Path) -> None:
    result = _cli("--registry", str(tmp_path / "missing.json"))
    assert result.returncode == 2
    assert "cannot check" in result.stderr


# --- the registry itself --------------------------------------------------------------------------


def test_registry_lookups() -> None:
    registry = FileSchemaRegistry.load()
    schema_id, parsed = registry.latest(TOUCHPOINT_SUBJECT)
    assert schema_id == 1
    assert parsed is registry.schema(1)
    assert registry.versions(TOUCHPOINT_SUBJECT) == [1]
    assert registry.subjects() == [
        "servicetrace.alerts.v1-value",
        "servicetrace.flags.v1-value",
        TOUCHPOINT_SUBJECT,
    ]
    assert registry.latest("servicetrace.alerts.v1-value")[0] == 2
    assert registry.latest("servicetrace.flags.v1-value")[0] == 3
    assert registry.entry(1).file == "touchpoint.v1.avsc"
    assert registry.raw(1) == TOUCHPOINT_V1
    registry.raw(1)["name"] = "changed"
    assert registry.raw(1)["name"] == "Touchpoint"  # callers get copies


def test_registry_errors(tmp_path: Path) -> None:
    registry = FileSchemaRegistry.load()
    with pytest.raises(UnknownSchemaId, match="99"):
        registry.schema(99)
    with pytest.raises(SchemaError, match="no schema registered for subject 'nope'"):
        registry.latest("nope")


@pytest.mark.parametrize(
    ("entries", "files", "message"),
    [
        (
            [{"id": 1, "subject": "s", "version": 1, "file": "a.avsc"}] * 2,
            {"a.avsc": '"string"'},
            "registered twice",
        ),
        ([{"id": 1, "subject": "s"}], {}, "needs id, subject, version, file"),
        ([{"id": 1, "subject": "s", "version": 1, "file": "a.avsc"}], {}, "cannot read"),
        (
            [{"id": 1, "subject": "s", "version": 1, "file": "a.avsc"}],
            {"a.avsc": json.dumps(record(field("x", "nope")))},
            "not a valid Avro schema",
        ),
    ],
    ids=["duplicate", "incomplete", "missing file", "bad schema"],
)
def test_broken_registries_fail_at_load(
    tmp_path: Path, entries: list[dict[str, Any]], files: dict[str, str], message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "registry.json").write_text(json.dumps({"schemas": entries}))
    with pytest.raises(SchemaError, match=message):
        FileSchemaRegistry.load(tmp_path / "registry.json")
