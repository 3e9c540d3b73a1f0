"""Reading a TOML configuration file into a frozen pydantic model, with errors that name the
file and the offending key (shared by the projection and the risk-rule configurations)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from events.errors import ConfigurationError

__all__ = ["read_toml", "validated"]

_M = TypeVar("_M", bound=BaseModel)


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """The TOML document at ``path``; :class:`ConfigurationError` naming ``what`` otherwise."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"cannot read {what} {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{what} {path} is not valid TOML: {exc}") from exc


def validated(model: type[_M], raw: Any, path: Path, what: str, prefix: str = "") -> _M:
    """``raw`` as ``model``; every problem reported as ``prefix.key.path: message``."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{prefix}{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigurationError(f"{what} {path}: {problems}") from exc
