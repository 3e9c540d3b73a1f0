"""Building blocks shared by the coded 311 mappings and the declarative TOML mapping.

Each piece answers one recurring question about a CSV export (how are its local times written,
how do its labels translate into our vocabularies, how is a location turned into a stable
customer key) so that a code mapping and a TOML mapping answer it the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from events.errors import FieldError, InvalidRecord, MappingError

__all__ = [
    "Location",
    "Timestamps",
    "ValueRule",
    "address_location",
    "cell",
    "normalise_address",
    "pick_attributes",
    "reject",
    "short_hash",
]


def reject(column: str, reason: str, message: str) -> InvalidRecord:
    """A row rejection whose reason is also the field error's code (what the summary counts)."""
    return InvalidRecord(reason, [FieldError(column, reason, message)])


def cell(row: Mapping[str, str | None], column: str) -> str:
    """A cell's stripped text; a missing column or a short row (``None``) reads as empty."""
    return (row.get(column) or "").strip()


@dataclass(frozen=True)
class Timestamps:
    """How an export writes local times: one ``strptime`` format in one IANA time zone.

    Exports from city systems write wall-clock time without an offset; the zone (not a fixed
    offset) is needed so that winter and summer rows each get their true UTC offset.
    """

    fmt: str
    zone: ZoneInfo

    @classmethod
    def of(cls, fmt: str, timezone: str) -> Timestamps:
        """Build from config, turning an unknown zone into a :class:`MappingError`."""
        try:
            return cls(fmt, ZoneInfo(timezone))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise MappingError(f"unknown time zone {timezone!r}: {exc}") from None

    def parse(self, row: Mapping[str, str], column: str, key: str) -> datetime | None:
        """The column's time (zone-aware), ``None`` when blank; a garbled time rejects the row."""
        raw = cell(row, column)
        if not raw:
            return None
        try:
            return datetime.strptime(raw, self.fmt).replace(tzinfo=self.zone)
        except ValueError:
            raise reject(
                column,
                "unparseable_date",
                f"row {key}: {column} {raw!r} does not match the format {self.fmt!r}",
            ) from None

    def required(self, row: Mapping[str, str], column: str, key: str, reason: str) -> datetime:
        """The column's time; a blank cell rejects the row with ``reason``."""
        value = self.parse(row, column, key)
        if value is None:
            raise reject(column, reason, f"row {key}: {column} is empty")
        return value


@dataclass(frozen=True)
class Resolved:
    """A rule's outcome: the value, and the raw cell when it was not recognised."""

    value: str | None
    unrecognised: str | None = None


@dataclass(frozen=True)
class ValueRule:
    """One field's value: a constant, or a column's text translated through a value map.

    A column without a map passes its text through. With a map, labels are matched ignoring case
    and surrounding space; a label the map does not know becomes ``default`` and is reported as
    unrecognised, so the caller can keep the raw label (``raw_channel``) rather than lose it.
    """

    constant: str | None = None
    column: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)
    default: str | None = None

    def __post_init__(self) -> None:
        folded = {label.strip().casefold(): value for label, value in self.values.items()}
        object.__setattr__(self, "values", folded)

    def resolve(self, row: Mapping[str, str]) -> Resolved:
        """The value for ``row`` (see the class docstring for the rules)."""
        if self.column is None:
            return Resolved(self.constant)
        raw = cell(row, self.column)
        if not self.values:
            return Resolved(raw or self.default)
        mapped = self.values.get(raw.casefold())
        if mapped is not None:
            return Resolved(mapped)
        return Resolved(self.default, raw or None)

    def outputs(self) -> set[str]:
        """Every value this rule can produce from its config (to check against a vocabulary)."""
        produced = {v for v in (self.constant, self.default) if v is not None}
        return produced | set(self.values.values())

    def check(self, name: str, vocabulary: type[StrEnum]) -> None:
        """Raise :class:`MappingError` if the rule can produce a value outside ``vocabulary``."""
        allowed = {member.value for member in vocabulary}
        unknown = self.outputs() - allowed
        if unknown:
            raise MappingError(
                f"{name}: {sorted(unknown)} not in the {vocabulary.__name__} vocabulary "
                f"{sorted(allowed)}"
            )


@dataclass(frozen=True)
class Location:
    """The customer key a request is filed under, and how it was derived.

    City 311 data has no customer identity, only where the problem is, so the location stands in
    for the customer: repeat requests about the same building become one customer's journey.
    ``address`` is personal (someone lives there) and goes only into the sealed customer fields.
    """

    customer_id: str
    location_key: str
    address: str | None = None


def normalise_address(*parts: str) -> str:
    """Parts joined with ", ", upper-cased, whitespace collapsed: one spelling per place."""
    joined = ", ".join(" ".join(p.split()) for p in parts if p.strip())
    return joined.upper()


def short_hash(text: str) -> str:
    """The first 16 hex digits of SHA-256: a stable, non-readable key for a normalised string."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def address_location(prefix: str, kind: str, address: str) -> Location:
    """The location keyed by a normalised address: ``<prefix>:<kind short>:<hash>``."""
    return Location(f"{prefix}:{_KEY_TAGS[kind]}:{short_hash(address)}", kind, address)


_KEY_TAGS = {"address": "addr", "intersection": "int"}


def pick_attributes(row: Mapping[str, str], columns: Mapping[str, str]) -> dict[str, str]:
    """Attribute name -> the column's text, leaving out blank cells (they carry no information)."""
    picked = {name: cell(row, column) for name, column in columns.items()}
    return {name: value for name, value in picked.items() if value}
