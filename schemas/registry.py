"""A local, file-based schema registry with the shape of a Confluent one.

Why a file and not a server: the embedded mode runs in one process with no network services, yet
every message must carry a Confluent frame (magic byte + 4-byte schema id) so that standard Kafka
and Avro tooling can decode the topics in production. ``registry.json`` pins the ids; the same
ids are registered in the production registry, so bytes written here decode there unchanged.

Entries are ``{id, subject, version, file}``: ids are global and never reused, versions count per
subject (TopicNameStrategy: ``<topic>-value``). Adding a schema (a touchpoint v2, alerts, flags,
dead letters) means adding an ``.avsc`` file and one entry; ``python -m schemas.compat`` then
proves the new version can read everything its subject ever wrote.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastavro

from events.errors import SchemaError, UnknownSchemaId

__all__ = [
    "DEFAULT_REGISTRY",
    "FileSchemaRegistry",
    "ParsedSchema",
    "RawSchema",
    "SchemaEntry",
]

#: A schema as JSON-decoded from its ``.avsc`` file (a dict for records, enums, ...).
RawSchema = dict[str, Any]
#: A schema as :func:`fastavro.parse_schema` returns it: ready for the fastavro readers/writers.
ParsedSchema = Any

DEFAULT_REGISTRY = "registry.json"


@dataclass(frozen=True, slots=True)
class SchemaEntry:
    """One registered schema: its global id, the subject and version it has there, its file."""

    id: int
    subject: str
    version: int
    file: str


@dataclass(frozen=True, slots=True)
class _Loaded:
    entry: SchemaEntry
    raw: RawSchema
    parsed: ParsedSchema


class FileSchemaRegistry:
    """Registered schemas by id and by subject, parsed once at load time.

    Parsing is done eagerly so that a broken ``.avsc`` fails at start-up, not on the first
    message, and so that the hot encode/decode paths only do dict look-ups.
    """

    def __init__(self, entries: Mapping[int, _Loaded]) -> None:
        self._by_id = dict(entries)
        by_subject: dict[str, list[SchemaEntry]] = {}
        for loaded in sorted(self._by_id.values(), key=lambda x: x.entry.version):
            by_subject.setdefault(loaded.entry.subject, []).append(loaded.entry)
        self._by_subject = by_subject

    @classmethod
    def load(cls, path: str | Path | None = None) -> FileSchemaRegistry:
        """Load a registry file (default: the ``registry.json`` packaged next to this module).

        Schema files are resolved relative to the registry file's directory. ``Path(__file__)``
        rather than :mod:`importlib.resources`: the package ships as plain files (wheel or
        editable install), and it also works when the package is seen as a namespace package.
        """
        index = Path(__file__).with_name(DEFAULT_REGISTRY) if path is None else Path(path)
        document = _read_json(index)
        return cls(_load_entries(document, index.parent, str(index)))

    def schema(self, schema_id: int) -> ParsedSchema:
        """The parsed schema registered under ``schema_id``."""
        return self._get(schema_id).parsed

    def raw(self, schema_id: int) -> RawSchema:
        """A copy of the schema's JSON, e.g. to register it with a Confluent registry."""
        return copy.deepcopy(self._get(schema_id).raw)

    def entry(self, schema_id: int) -> SchemaEntry:
        """Subject, version and file of the schema registered under ``schema_id``."""
        return self._get(schema_id).entry

    def latest(self, subject: str) -> tuple[int, ParsedSchema]:
        """The newest version of ``subject``: its id and parsed schema."""
        newest = self.entries(subject)[-1]
        return newest.id, self._by_id[newest.id].parsed

    def versions(self, subject: str) -> list[int]:
        """The subject's version numbers, oldest first (like Confluent's ``/versions``)."""
        return [e.version for e in self.entries(subject)]

    def entries(self, subject: str) -> list[SchemaEntry]:
        """The subject's entries, oldest version first."""
        try:
            return list(self._by_subject[subject])
        except KeyError:
            raise SchemaError(
                f"no schema registered for subject {subject!r} "
                f"(known: {', '.join(sorted(self._by_subject)) or 'none'})"
            ) from None

    def subjects(self) -> list[str]:
        """Every subject that has at least one version, sorted."""
        return sorted(self._by_subject)

    def __iter__(self) -> Iterator[SchemaEntry]:
        return iter(sorted((x.entry for x in self._by_id.values()), key=lambda e: e.id))

    def __contains__(self, schema_id: object) -> bool:
        return schema_id in self._by_id

    def _get(self, schema_id: int) -> _Loaded:
        try:
            return self._by_id[schema_id]
        except KeyError:
            raise UnknownSchemaId(
                f"schema id {schema_id} is not registered (known ids: {sorted(self._by_id)})"
            ) from None


def _read_json(source: Path) -> Any:
    try:
        return json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaError(f"cannot read {source}: {exc}") from exc


def _load_entries(document: Any, base: Path, where: str) -> dict[int, _Loaded]:
    if not isinstance(document, dict) or not isinstance(document.get("schemas"), list):
        raise SchemaError(f"{where}: expected an object with a 'schemas' list")
    loaded: dict[int, _Loaded] = {}
    seen_versions: set[tuple[str, int]] = set()
    for item in document["schemas"]:
        entry = _entry(item, where)
        if entry.id in loaded:
            raise SchemaError(f"{where}: schema id {entry.id} is registered twice")
        if (entry.subject, entry.version) in seen_versions:
            raise SchemaError(
                f"{where}: {entry.subject} version {entry.version} is registered twice"
            )
        seen_versions.add((entry.subject, entry.version))
        loaded[entry.id] = _parse(entry, base)
    return loaded


def _entry(item: Any, where: str) -> SchemaEntry:
    try:
        entry = SchemaEntry(
            id=int(item["id"]),
            subject=str(item["subject"]),
            version=int(item["version"]),
            file=str(item["file"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SchemaError(f"{where}: bad entry {item!r}: needs id, subject, version, file") from exc
    if not 0 <= entry.id < 2**31:
        raise SchemaError(f"{where}: schema id {entry.id} does not fit the 4-byte frame")
    return entry


def _parse(entry: SchemaEntry, base: Path) -> _Loaded:
    raw = _read_json(base / entry.file)
    try:
        # A fresh name table per schema: versions of one subject redefine the same names.
        parsed = fastavro.parse_schema(copy.deepcopy(raw), named_schemas={})
    except Exception as exc:  # fastavro raises several unrelated types for a bad schema
        raise SchemaError(
            f"{entry.file} (id {entry.id}) is not a valid Avro schema: {exc}"
        ) from exc
    return _Loaded(entry=entry, raw=raw, parsed=parsed)
