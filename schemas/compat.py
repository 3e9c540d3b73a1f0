"""BACKWARD_TRANSITIVE compatibility: every new schema version must read every older one.

Why transitive: the log is replayed from the first event on (rebuilds, as-of reconstruction), so
the newest reader meets data written by *every* version a subject ever had, not just the last.

The check implements the Avro specification's schema-resolution rules (reader vs. writer):

* records match by unqualified name or a reader alias; writer fields are matched to reader fields
  by name or reader-field alias; a reader field missing from the writer needs a default; writer
  fields the reader lacks are skipped;
* enums: every writer symbol must be a reader symbol, unless the reader enum has a default;
* fixed: same name and size; arrays and maps resolve their items / values recursively;
* unions: each branch the writer may have used must resolve against the reader (a non-union
  reader, or some branch of a reader union);
* promotions: int -> long/float/double, long -> float/double, float -> double, string <-> bytes.

Logical types are ignored, as in the specification: resolution is by the underlying type.

Run ``python -m schemas.compat [--registry PATH]`` to check every subject of a registry.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from events.errors import IncompatibleSchema, SchemaError
from schemas.registry import FileSchemaRegistry

__all__ = [
    "Incompatibility",
    "Problem",
    "candidate_problems",
    "check_all",
    "check_compatible",
    "check_subject",
    "main",
    "subject_problems",
]

#: A schema node after normalisation: always a dict with a ``type`` kind; named types carry
#: their full ``name``; references to named types are the very same dict (cycles allowed).
Node = dict[str, Any]

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})

#: writer type -> reader types that can read it (Avro "promotions").
_PROMOTIONS: dict[str, frozenset[str]] = {
    "int": frozenset({"long", "float", "double"}),
    "long": frozenset({"float", "double"}),
    "float": frozenset({"double"}),
    "string": frozenset({"bytes"}),
    "bytes": frozenset({"string"}),
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a reader cannot read a writer: where (``Touchpoint.channel``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class Incompatibility:
    """A problem found between two versions of a subject."""

    subject: str
    reader_version: int
    writer_version: int
    problem: Problem

    def __str__(self) -> str:
        return (
            f"{self.subject} v{self.reader_version} cannot read v{self.writer_version}: "
            f"{self.problem}"
        )


# --- normalisation: names resolved, defaults of every shape made uniform -------------------------


def _fullname(name: str, namespace: str | None) -> str:
    return name if "." in name or not namespace else f"{namespace}.{name}"


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


class _Normaliser:
    """Turns JSON schemas into :data:`Node` trees with named-type references resolved."""

    def __init__(self) -> None:
        self.names: dict[str, Node] = {}
        self._complex: dict[str, Callable[[dict[str, Any], str | None], Node]] = {
            "record": self._record,
            "error": self._record,
            "enum": self._enum,
            "fixed": self._fixed,
            "array": self._array,
            "map": self._map,
        }

    def node(self, schema: Any, namespace: str | None) -> Node:
        if isinstance(schema, list):
            return {"type": "union", "branches": [self.node(b, namespace) for b in schema]}
        if isinstance(schema, str):
            return self._reference(schema, namespace)
        if isinstance(schema, dict):
            return self._mapping(schema, namespace)
        raise SchemaError(f"not an Avro schema: {schema!r}")

    def _mapping(self, schema: dict[str, Any], namespace: str | None) -> Node:
        kind = schema.get("type")
        build = self._complex.get(kind) if isinstance(kind, str) else None
        if build is not None:
            return build(schema, namespace)
        return self.node(kind, namespace)  # {"type": "long", "logicalType": ...} or nesting

    def _reference(self, name: str, namespace: str | None) -> Node:
        if name in _PRIMITIVES:
            return {"type": name}
        for candidate in (_fullname(name, namespace), name):
            if candidate in self.names:
                return self.names[candidate]
        raise SchemaError(f"unknown type name {name!r} (namespace {namespace!r})")

    def _named(self, schema: dict[str, Any], namespace: str | None) -> tuple[Node, str | None]:
        name = str(schema["name"])
        own_ns = name.rsplit(".", 1)[0] if "." in name else schema.get("namespace", namespace)
        full = _fullname(name, own_ns)
        kind = "record" if schema["type"] == "error" else schema["type"]
        aliases = [_fullname(a, own_ns) for a in schema.get("aliases", ())]
        node: Node = {"type": kind, "name": full, "aliases": aliases}
        self.names[full] = node  # before the fields: records may refer to themselves
        return node, own_ns or None

    def _record(self, schema: dict[str, Any], namespace: str | None) -> Node:
        node, own_ns = self._named(schema, namespace)
        node["fields"] = [self._field(f, own_ns) for f in schema.get("fields", ())]
        return node

    def _field(self, field: dict[str, Any], namespace: str | None) -> Node:
        return {
            "name": field["name"],
            "aliases": list(field.get("aliases", ())),
            "has_default": "default" in field,
            "type": self.node(field["type"], namespace),
        }

    def _enum(self, schema: dict[str, Any], namespace: str | None) -> Node:
        node, _ = self._named(schema, namespace)
        node["symbols"] = list(schema["symbols"])
        node["default"] = schema.get("default")
        return node

    def _fixed(self, schema: dict[str, Any], namespace: str | None) -> Node:
        node, _ = self._named(schema, namespace)
        node["size"] = int(schema["size"])
        return node

    def _array(self, schema: dict[str, Any], namespace: str | None) -> Node:
        return {"type": "array", "items": self.node(schema["items"], namespace)}

    def _map(self, schema: dict[str, Any], namespace: str | None) -> Node:
        return {"type": "map", "values": self.node(schema["values"], namespace)}


def _normalise(schema: Any) -> Node:
    return _Normaliser().node(schema, None)


# --- resolution ----------------------------------------------------------------------------------


def _describe(node: Node) -> str:
    kind = node["type"]
    if "name" in node:
        return f"{kind} {_short(node['name'])}"
    if kind == "union":
        return "union [" + ", ".join(_describe(b) for b in node["branches"]) + "]"
    if kind == "array":
        return f"array<{_describe(node['items'])}>"
    if kind == "map":
        return f"map<{_describe(node['values'])}>"
    return str(kind)


class _Resolver:
    """Walks a reader and a writer node together, collecting every :class:`Problem`."""

    def __init__(self) -> None:
        self._seen: set[tuple[int, int]] = set()
        self._same_kind: dict[str, Callable[[Node, Node, str], list[Problem]]] = {
            "record": self._record,
            "enum": self._enum,
            "fixed": self._fixed,
            "array": self._array,
            "map": self._map,
        }

    def resolve(self, reader: Node, writer: Node, path: str) -> list[Problem]:
        if writer["type"] == "union":
            return self._writer_union(reader, writer, path)
        if reader["type"] == "union":
            return self._reader_union(reader, writer, path)
        if reader["type"] != writer["type"]:
            if reader["type"] in _PROMOTIONS.get(writer["type"], frozenset()):
                return []
            return [
                Problem(
                    path,
                    f"writer type {_describe(writer)} cannot be read as {_describe(reader)}",
                )
            ]
        check = self._same_kind.get(reader["type"])
        return [] if check is None else check(reader, writer, path)

    def _writer_union(self, reader: Node, writer: Node, path: str) -> list[Problem]:
        """Each branch the writer may have used must be readable on its own."""
        problems: list[Problem] = []
        for branch in writer["branches"]:
            problems.extend(self.resolve(reader, branch, path))
        return problems

    def _reader_union(self, reader: Node, writer: Node, path: str) -> list[Problem]:
        """The first reader branch matching the writer's type is used (exact before promoted)."""
        branch = _matching_branch(reader["branches"], writer)
        if branch is None:
            return [
                Problem(
                    path,
                    f"writer type {_describe(writer)} matches no branch of reader "
                    f"{_describe(reader)}",
                )
            ]
        return self.resolve(branch, writer, path)

    def _record(self, reader: Node, writer: Node, path: str) -> list[Problem]:
        mismatch = _name_problem(reader, writer, path)
        if mismatch or (id(reader), id(writer)) in self._seen:
            return mismatch
        self._seen.add((id(reader), id(writer)))  # recursive types: check each pair once
        by_name = {f["name"]: f for f in writer["fields"]}
        problems: list[Problem] = []
        for field in reader["fields"]:
            written = _writer_field(field, by_name)
            problems.extend(self._field(field, written, f"{path}.{field['name']}"))
        return problems

    def _field(self, field: Node, written: Node | None, path: str) -> list[Problem]:
        if written is not None:
            return self.resolve(field["type"], written["type"], path)
        if field["has_default"]:
            return []
        return [
            Problem(
                path,
                f"field {field['name']!r} is not in the writer schema and has no default, "
                "so records written without it cannot be read (add a default)",
            )
        ]

    def _enum(self, reader: Node, writer: Node, path: str) -> list[Problem]:
        mismatch = _name_problem(reader, writer, path)
        if mismatch:
            return mismatch
        missing = [s for s in writer["symbols"] if s not in reader["symbols"]]
        if not missing or reader["default"] is not None:
            return []
        return [
            Problem(
                path,
                f"writer symbols {missing} are not in reader enum {_short(reader['name'])}, "
                "which has no default to fall back to",
            )
        ]

    def _fixed(self, reader: Node, writer: Node, path: str) -> list[Problem]:
        mismatch = _name_problem(reader, writer, path)
        if mismatch or reader["size"] == writer["size"]:
            return mismatch
        return [
            Problem(path, f"fixed size changed from {writer['size']} to {reader['size']} bytes")
        ]

    def _array(self, reader: Node, writer: Node, path: str) -> list[Problem]:
        return self.resolve(reader["items"], writer["items"], f"{path}[]")

    def _map(self, reader: Node, writer: Node, path: str) -> list[Problem]:
        return self.resolve(reader["values"], writer["values"], f"{path}{{}}")


def _names_match(reader: Node, writer: Node) -> bool:
    accepted = {_short(reader["name"])} | {_short(a) for a in reader["aliases"]}
    return _short(writer["name"]) in accepted


def _name_problem(reader: Node, writer: Node, path: str) -> list[Problem]:
    if _names_match(reader, writer):
        return []
    return [
        Problem(
            path,
            f"writer {_describe(writer)} cannot be read as {_describe(reader)}: names differ "
            f"and the reader has no alias {_short(writer['name'])!r}",
        )
    ]


def _writer_field(field: Node, by_name: dict[str, Node]) -> Node | None:
    for name in (field["name"], *field["aliases"]):
        if name in by_name:
            return by_name[name]
    return None


def _matching_branch(branches: Sequence[Node], writer: Node) -> Node | None:
    kind = writer["type"]
    for branch in branches:
        if branch["type"] == kind and ("name" not in writer or _names_match(branch, writer)):
            return branch
    promoted = _PROMOTIONS.get(kind, frozenset())
    return next((b for b in branches if b["type"] in promoted), None)


def _root(node: Node) -> str:
    return _short(node["name"]) if "name" in node else str(node["type"])


def check_compatible(reader: Any, writer: Any) -> list[Problem]:
    """Every problem a reader with schema ``reader`` has reading data written with ``writer``.

    Both are JSON schemas (as loaded from ``.avsc``); an empty list means compatible.
    """
    reader_node, writer_node = _normalise(reader), _normalise(writer)
    return _Resolver().resolve(reader_node, writer_node, _root(reader_node))


# --- subjects and registries ---------------------------------------------------------------------


def candidate_problems(
    registry: FileSchemaRegistry, subject: str, schema: Any
) -> list[Incompatibility]:
    """Problems ``schema`` would have as the next version of ``subject`` (before registering)."""
    entries = registry.entries(subject)
    version = entries[-1].version + 1
    return [
        Incompatibility(subject, version, old.version, problem)
        for old in entries
        for problem in check_compatible(schema, registry.raw(old.id))
    ]


def subject_problems(registry: FileSchemaRegistry, subject: str) -> list[Incompatibility]:
    """Problems of every version of ``subject`` reading every earlier version."""
    entries = registry.entries(subject)
    return [
        Incompatibility(subject, new.version, old.version, problem)
        for i, new in enumerate(entries)
        for old in entries[:i]
        for problem in check_compatible(registry.raw(new.id), registry.raw(old.id))
    ]


def _raise_if_any(problems: list[Incompatibility]) -> None:
    if problems:
        lines = "\n  ".join(str(p) for p in problems)
        raise IncompatibleSchema(f"{len(problems)} compatibility problem(s):\n  {lines}")


def check_subject(registry: FileSchemaRegistry, subject: str) -> None:
    """Raise :class:`IncompatibleSchema` listing every problem of the subject's history."""
    _raise_if_any(subject_problems(registry, subject))


def check_all(registry: FileSchemaRegistry) -> None:
    """Raise :class:`IncompatibleSchema` listing every problem of every subject."""
    _raise_if_any([p for s in registry.subjects() for p in subject_problems(registry, s)])


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m schemas.compat``: check every subject.

    Exits 0 when compatible, 1 on compatibility problems, 2 when the registry cannot be loaded.
    """
    parser = argparse.ArgumentParser(
        prog="python -m schemas.compat",
        description="Check BACKWARD_TRANSITIVE compatibility of every subject in a registry.",
    )
    parser.add_argument("--registry", help="registry.json to check (default: the packaged one)")
    args = parser.parse_args(argv)
    try:
        registry = FileSchemaRegistry.load(args.registry)
        check_all(registry)
    except IncompatibleSchema as exc:
        print(exc, file=sys.stderr)
        return 1
    except SchemaError as exc:
        print(f"cannot check: {exc}", file=sys.stderr)
        return 2
    subjects = registry.subjects()
    total = sum(len(registry.versions(s)) for s in subjects)
    print(f"ok: {len(subjects)} subject(s), {total} schema version(s), backward transitive")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
