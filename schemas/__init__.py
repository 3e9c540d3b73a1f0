"""Avro for servicetrace: the ``.avsc`` schemas, a file-based registry, Confluent framing, and the
BACKWARD_TRANSITIVE compatibility check that guards every schema change.

Everything on the log is Confluent-framed Avro so that other services decode our topics with
standard Kafka + Avro tooling; this package is the only place that knows the wire format.

Exports are resolved lazily (PEP 562) so that ``python -m schemas.compat`` runs its module
exactly once, and importing the registry does not pull in the touchpoint model.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from schemas.compat import (
        Incompatibility,
        Problem,
        check_all,
        check_compatible,
        check_subject,
    )
    from schemas.registry import FileSchemaRegistry, SchemaEntry
    from schemas.serde import (
        MAGIC_BYTE,
        TOUCHPOINT_SUBJECT,
        AvroSerde,
        TouchpointSerde,
        schema_id_of,
        touchpoint_from_avro,
        touchpoint_to_avro,
    )

__all__ = [
    "MAGIC_BYTE",
    "TOUCHPOINT_SUBJECT",
    "AvroSerde",
    "FileSchemaRegistry",
    "Incompatibility",
    "Problem",
    "SchemaEntry",
    "TouchpointSerde",
    "check_all",
    "check_compatible",
    "check_subject",
    "schema_id_of",
    "touchpoint_from_avro",
    "touchpoint_to_avro",
]

_HOME = {
    "Incompatibility": "compat",
    "Problem": "compat",
    "check_all": "compat",
    "check_compatible": "compat",
    "check_subject": "compat",
    "FileSchemaRegistry": "registry",
    "SchemaEntry": "registry",
    "MAGIC_BYTE": "serde",
    "TOUCHPOINT_SUBJECT": "serde",
    "AvroSerde": "serde",
    "TouchpointSerde": "serde",
    "schema_id_of": "serde",
    "touchpoint_from_avro": "serde",
    "touchpoint_to_avro": "serde",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'schemas' has no attribute {name!r}")
    return getattr(import_module(f"schemas.{module}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)
