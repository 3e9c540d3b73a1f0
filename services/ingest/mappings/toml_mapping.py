"""A declarative CSV mapping, written in TOML, for exports that need no code.

Most CRM / ticketing exports are "one row = one case" with a few timestamp columns; a row
yields one touchpoint per ``[[emit]]`` whose ``when_present`` column is filled (the request
when it was opened, the closure when it was closed, ...). The format is documented by example
in ``example.toml`` next to this module.

The config is checked when loaded, not when the first row arrives: unknown keys (typos),
values outside the vocabularies, unknown time zones and dangling ``parent`` references are
:class:`MappingError`. Bad *data* in a row is :class:`InvalidRecord`, as for every mapping.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from events.errors import MappingError
from events.identity import source_event_id
from events.taxonomy import ActorType, Channel, Direction, Kind, Outcome
from services.ingest.mapping import CsvMapping
from services.ingest.mappings.common import Timestamps, ValueRule, cell, pick_attributes, reject

__all__ = ["Emit", "TomlMapping"]

#: Customer fields a mapping may fill from columns (the personal ones are sealed on intake).
CUSTOMER_FIELDS = frozenset({"name", "phone", "email", "account", "social_handle", "address"})

#: Vocabulary-checked emit fields -> their vocabulary.
_VOCABULARIES: Mapping[str, type[StrEnum]] = {
    "kind": Kind,
    "channel": Channel,
    "direction": Direction,
    "actor": ActorType,
    "outcome": Outcome,
}


class _Table:
    """A TOML table read key by key, so leftover (misspelt) keys can be reported at the end."""

    def __init__(self, where: str, data: Any) -> None:
        if not isinstance(data, Mapping):
            raise _error(where, "must be a table")
        self.where = where
        self._data: Mapping[str, Any] = data
        self._used: set[str] = set()

    def get(self, key: str, kind: type | None, default: Any = None) -> Any:
        """The key's value (``default`` when absent), checked to be a ``kind`` unless None."""
        self._used.add(key)
        value = self._data.get(key, default)
        if kind is not None and value is not None and not isinstance(value, kind):
            raise _error(f"{self.where}.{key}", f"must be a {kind.__name__}")
        return value

    def require(self, key: str, kind: type) -> Any:
        value = self.get(key, kind)
        if value in (None, ""):
            raise _error(f"{self.where}.{key}", "is required")
        return value

    def done(self) -> None:
        unknown = sorted(set(self._data) - self._used)
        if unknown:
            raise _error(self.where, f"unknown keys {unknown}")


def _error(where: str, problem: str) -> MappingError:
    return MappingError(f"mapping {where} {problem}")


def _value_rule(where: str, spec: Any) -> ValueRule | None:
    """A string is a constant; a table is ``{column = ..., map = {...}, default = ...}``."""
    if spec is None or isinstance(spec, str):
        return None if spec is None else ValueRule(constant=spec)
    if not isinstance(spec, Mapping):
        raise _error(where, "must be a constant string or a {column, map, default} table")
    table = _Table(where, spec)
    rule = ValueRule(
        column=table.require("column", str),
        values=table.get("map", dict, {}),
        default=table.get("default", str),
    )
    table.done()
    if not all(isinstance(v, str) for v in rule.values.values()):
        raise _error(f"{where}.map", "values must be strings")
    return rule


def _string_map(where: str, value: Any) -> dict[str, str]:
    if not all(isinstance(v, str) for v in value.values()):
        raise _error(where, "values must be column names (strings)")
    return dict(value)


@dataclass(frozen=True)
class Emit:
    """One touchpoint a row yields when its ``when_present`` column is filled."""

    suffix: str
    when_present: str
    occurred_at: str
    rules: Mapping[str, ValueRule]
    actor_id_column: str | None
    text_column: str | None
    parent: str | None
    attributes: Mapping[str, str]

    @classmethod
    def parse(cls, where: str, data: Any, earlier: set[str]) -> Emit:
        """Read and check one ``[[emit]]`` table; ``earlier`` are the suffixes defined before."""
        table = _Table(where, data)
        when_present = table.require("when_present", str)
        rules = {
            name: _value_rule(f"{where}.{name}", table.get(name, None))
            for name in (*_VOCABULARIES, "service_type")
        }
        emit = cls(
            suffix=table.require("suffix", str),
            when_present=when_present,
            occurred_at=table.get("occurred_at", str) or when_present,
            rules={name: rule for name, rule in rules.items() if rule is not None},
            actor_id_column=table.get("actor_id_column", str),
            text_column=table.get("text_column", str),
            parent=table.get("parent", str),
            attributes=_string_map(f"{where}.attributes", table.get("attributes", dict, {})),
        )
        table.done()
        emit._check(where, earlier)
        return emit

    def _check(self, where: str, earlier: set[str]) -> None:
        missing = {"kind", "channel", "direction", "actor", "service_type"} - set(self.rules)
        if missing:
            raise _error(where, f"needs {sorted(missing)}")
        for name, vocabulary in _VOCABULARIES.items():
            if name in self.rules:
                self.rules[name].check(f"{where}.{name}", vocabulary)
        if self.suffix in earlier:
            raise _error(f"{where}.suffix", f"{self.suffix!r} is used twice")
        if self.parent is not None and self.parent not in earlier:
            raise _error(f"{where}.parent", f"{self.parent!r} is not an earlier emit's suffix")


@dataclass(frozen=True)
class _Customer:
    id_column: str
    id_prefix: str
    personal: Mapping[str, str]

    @classmethod
    def parse(cls, data: Any) -> _Customer:
        table = _Table("[customer]", data)
        personal = _string_map("[customer].personal", table.get("personal", dict, {}))
        unknown = set(personal) - CUSTOMER_FIELDS
        if unknown:
            raise _error("[customer].personal", f"unknown fields {sorted(unknown)}")
        customer = cls(table.require("id_column", str), table.get("id_prefix", str, ""), personal)
        table.done()
        return customer

    def of(self, row: Mapping[str, str], key: str) -> dict[str, str]:
        cid = cell(row, self.id_column)
        if not cid:
            raise reject(self.id_column, "missing_customer_id", f"row {key}: customer id is empty")
        fields = pick_attributes(row, self.personal)
        return {"id": f"{self.id_prefix}{cid}", **fields}


class TomlMapping(CsvMapping):
    """A :class:`CsvMapping` read from a TOML document (see ``example.toml``)."""

    def __init__(self, config: Mapping[str, Any], default_name: str = "toml") -> None:
        table = _Table("top level", config)
        self.name = table.get("name", str) or default_name
        self.system: str = table.require("source_system", str)
        self.id_column: str = table.require("source_id_column", str)
        self.case_id_column: str | None = table.get("case_id_column", str)
        self.timestamps = self._timestamps(table.require("timestamps", dict))
        self.customer = _Customer.parse(table.require("customer", dict))
        self.emits = self._emits(table.require("emit", list))
        table.done()

    @classmethod
    def from_file(cls, path: Path) -> TomlMapping:
        """Load a mapping file; a missing or malformed file is a :class:`MappingError`."""
        try:
            config = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise _error(str(path), f"cannot be read: {exc}") from None
        return cls(config, default_name=path.stem)

    @classmethod
    def from_text(cls, text: str, default_name: str = "toml") -> TomlMapping:
        """Load a mapping from TOML text (tests, configs embedded elsewhere)."""
        try:
            return cls(tomllib.loads(text), default_name)
        except tomllib.TOMLDecodeError as exc:
            raise _error("text", f"is not valid TOML: {exc}") from None

    @staticmethod
    def _timestamps(data: Any) -> Timestamps:
        table = _Table("[timestamps]", data)
        stamps = Timestamps.of(table.require("format", str), table.require("timezone", str))
        table.done()
        return stamps

    @staticmethod
    def _emits(data: list[Any]) -> tuple[Emit, ...]:
        if not data:
            raise _error("[[emit]]", "needs at least one entry")
        emits: list[Emit] = []
        for i, item in enumerate(data):
            emits.append(Emit.parse(f"[[emit]] #{i + 1}", item, {e.suffix for e in emits}))
        return tuple(emits)

    def records(self, row: Mapping[str, str], line: int) -> list[dict[str, Any]]:
        """One record per emit whose ``when_present`` column is filled; none at all rejects."""
        key = cell(row, self.id_column)
        if not key:
            raise reject(self.id_column, "missing_key", f"line {line}: {self.id_column} is empty")
        customer = self.customer.of(row, key)
        times: dict[str, datetime] = {}
        records = [
            self._record(emit, row, key, customer, times)
            for emit in self.emits
            if cell(row, emit.when_present)
        ]
        if not records:
            columns = [e.when_present for e in self.emits]
            raise reject(columns[0], "nothing_to_emit", f"row {key}: all of {columns} are empty")
        return records

    def _record(
        self,
        emit: Emit,
        row: Mapping[str, str],
        key: str,
        customer: Mapping[str, str],
        times: dict[str, datetime],
    ) -> dict[str, Any]:
        occurred = self.timestamps.required(row, emit.occurred_at, key, "missing_timestamp")
        self._check_order(emit, key, occurred, times)
        times[emit.suffix] = occurred
        record: dict[str, Any] = {
            "occurred_at": occurred.isoformat(),
            "source": {"system": self.system, "event_id": f"{key}:{emit.suffix}"},
            "customer": dict(customer),
            "case_id": cell(row, self.case_id_column) if self.case_id_column else key,
        }
        attributes = pick_attributes(row, emit.attributes)
        for name, rule in emit.rules.items():
            resolved = rule.resolve(row)
            record[name] = resolved.value
            if resolved.unrecognised is not None:
                attributes[f"raw_{name}"] = resolved.unrecognised
        record["actor"] = self._actor(emit, row, record.pop("actor"))
        record.update(self._optional(emit, row, key, times, attributes))
        return {k: v for k, v in record.items() if v not in (None, "", {})}

    def _check_order(
        self, emit: Emit, key: str, occurred: datetime, times: Mapping[str, datetime]
    ) -> None:
        before = times.get(emit.parent) if emit.parent else None
        if before is not None and occurred < before:
            raise reject(
                emit.occurred_at,
                "occurs_before_parent",
                f"row {key}: {emit.suffix} at {occurred.isoformat()} is before its parent "
                f"{emit.parent} at {before.isoformat()}",
            )

    @staticmethod
    def _actor(emit: Emit, row: Mapping[str, str], actor_type: str | None) -> dict[str, str]:
        actor_id = cell(row, emit.actor_id_column) if emit.actor_id_column else ""
        return {"type": actor_type or "", **({"id": actor_id} if actor_id else {})}

    def _optional(
        self,
        emit: Emit,
        row: Mapping[str, str],
        key: str,
        times: Mapping[str, datetime],
        attributes: dict[str, str],
    ) -> dict[str, Any]:
        parent = None
        if emit.parent is not None and emit.parent in times:
            parent = source_event_id(self.system, f"{key}:{emit.parent}")
        text = cell(row, emit.text_column) if emit.text_column else None
        return {"parent_event_id": parent, "text": text, "attributes": attributes}
