"""Every exception servicetrace raises, in one place (the httpx habit).

::

    ServicetraceError
    ├── InvalidRecord            a submitted record cannot become a touchpoint (kept in dead-letter)
    │   └── InvalidTouchpoint    ... because fields break the canonical model's rules
    ├── MappingError             a connector mapping is itself broken (bad config, not bad data)
    ├── SchemaError              Avro schema problems
    │   ├── UnknownSchemaId      a message names a schema id the registry does not know
    │   ├── MalformedMessage     bytes that are not Confluent-framed Avro
    │   └── IncompatibleSchema   a schema change breaks BACKWARD_TRANSITIVE compatibility
    ├── LogError                 the event log failed
    │   └── LogUnavailable       ... because its backend (broker, file) cannot be reached
    ├── KeyDestroyed             a customer's personal-data key was erased
    └── ConfigurationError       settings that cannot work together

Adapters translate their library's exceptions into these at the boundary, so callers never
catch ``kafka.errors`` or ``sqlite3`` types.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ConfigurationError",
    "FieldError",
    "IncompatibleSchema",
    "InvalidRecord",
    "InvalidTouchpoint",
    "KeyDestroyed",
    "LogError",
    "LogUnavailable",
    "MalformedMessage",
    "MappingError",
    "SchemaError",
    "ServicetraceError",
    "UnknownSchemaId",
]


class ServicetraceError(Exception):
    """Base of every error servicetrace raises on purpose."""


@dataclass(frozen=True)
class FieldError:
    """One broken rule: which field, a stable machine code, and a sentence for a person."""

    field: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidRecord(ServicetraceError, ValueError):
    """A submitted record was rejected; ``reason`` is the stable code the ingest summary counts."""

    def __init__(self, reason: str, errors: list[FieldError]) -> None:
        self.reason = reason
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors) or reason)


class InvalidTouchpoint(InvalidRecord):
    """The record's fields break the canonical touchpoint's rules."""


class MappingError(ServicetraceError):
    """A connector mapping cannot be loaded or applied (a configuration bug, not bad data)."""


class SchemaError(ServicetraceError):
    """Base for Avro schema and wire-format problems."""


class UnknownSchemaId(SchemaError):
    """The message's 4-byte schema id is not in the registry."""


class MalformedMessage(SchemaError):
    """The bytes are not a Confluent-framed Avro message of a known schema."""


class IncompatibleSchema(SchemaError):
    """A schema version cannot read data written with an earlier version."""


class LogError(ServicetraceError):
    """The event log failed to append or read."""


class LogUnavailable(LogError):
    """The event log's backend (broker, database file) cannot be reached."""


class KeyDestroyed(ServicetraceError):
    """The customer's personal-data key was destroyed (erasure): the data is gone for good."""


class ConfigurationError(ServicetraceError):
    """Settings that cannot work together."""
