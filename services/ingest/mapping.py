"""The CSV connector port: one CSV row in, the submitted touchpoint records it stands for out.

A mapping knows one source's columns and conventions and nothing else: it neither hashes nor
seals (that is :mod:`events.intake`'s job) and it never writes to the log. Keeping it a pure
``row -> records`` function is what lets the same export be re-ingested with identical event ids
and lets every row be accounted for: it is mapped, or it is rejected with a stable reason.

Built-in mappings are looked up by name; anything else is a path to a declarative TOML mapping
(see ``services/ingest/mappings/example.toml``).
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

from events.errors import MappingError

__all__ = ["BUILTIN_MAPPINGS", "CsvMapping", "load_mapping"]


class CsvMapping(ABC):
    """Maps the rows of one kind of CSV export onto submitted touchpoint records."""

    #: A short name for summaries and dead-letter entries ("nyc311", or the TOML file's name).
    name: str

    @abstractmethod
    def records(self, row: Mapping[str, str], line: int) -> list[dict[str, Any]]:
        """The submitted touchpoint records of one CSV row, or raise ``InvalidRecord``.

        ``line`` is the row's line number in the file, used only in rejection messages so that
        an operator can find the row; it never takes part in an event id.
        """


#: Built-in mapping name -> "module:factory". Imported lazily: the mappings import this module.
BUILTIN_MAPPINGS: Mapping[str, str] = {
    "nyc311": "services.ingest.mappings.nyc311:mapping",
    "la311": "services.ingest.mappings.la311:mapping",
}


def load_mapping(name_or_path: str) -> CsvMapping:
    """A built-in mapping by name, or a declarative mapping from a TOML file path.

    Raises :class:`MappingError` when the name is unknown and no such TOML file exists, or when
    the TOML file itself is broken.
    """
    target = BUILTIN_MAPPINGS.get(name_or_path)
    if target is not None:
        return _builtin(target)
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.is_file():
        load_toml = cast(Callable[[Path], CsvMapping], _attribute(_TOML_LOADER))
        return load_toml(path)
    raise MappingError(
        f"unknown mapping {name_or_path!r}: expected one of {sorted(BUILTIN_MAPPINGS)} "
        "or the path of an existing .toml mapping file"
    )


_TOML_LOADER = "services.ingest.mappings.toml_mapping:TomlMapping.from_file"


def _builtin(target: str) -> CsvMapping:
    factory = cast(Callable[[], CsvMapping], _attribute(target))
    return factory()


def _attribute(target: str) -> Any:
    """The object a "module:attr.path" target names, imported on first use."""
    module_name, path = target.split(":")
    found: Any = importlib.import_module(module_name)
    for name in path.split("."):
        found = getattr(found, name)
    return found
