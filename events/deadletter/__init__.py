"""The dead-letter port: every rejected record, kept with its original payload and the reason.

"Nothing lost" means a record that cannot become a touchpoint is not dropped: it is kept here,
verbatim, with where it came from (source and line) and every broken rule, so an operator can
fix the source or the mapping and submit it again. Letters are idempotent by ``letter_id`` (a
hash of source, line and payload): re-ingesting a file does not pile up copies.

Backends: :mod:`.memory`, :mod:`.sqlite` (embedded) and :mod:`.kafka` (topic
``servicetrace.deadletter.v1``); all pass ``tests/contract/deadletter_contract.py``.
"""

from __future__ import annotations

import abc
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from events.errors import FieldError

__all__ = ["DeadLetter", "DeadLetterStore", "letter_id"]


def letter_id(source: str, line: int | None, payload: str) -> str:
    """Stable id of a rejected record: the same line of the same file is the same letter."""
    return hashlib.sha256(f"{source}\x1f{line}\x1f{payload}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class DeadLetter:
    source: str
    line: int | None
    reason: str
    payload: str
    received_at: datetime
    errors: tuple[FieldError, ...] = field(default=())

    @property
    def letter_id(self) -> str:
        return letter_id(self.source, self.line, self.payload)

    def to_json(self) -> dict[str, Any]:
        return {
            "letter_id": self.letter_id,
            "source": self.source,
            "line": self.line,
            "reason": self.reason,
            "errors": [
                {"field": e.field, "code": e.code, "message": e.message} for e in self.errors
            ],
            "payload": self.payload,
            "received_at": self.received_at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeadLetter:
        return cls(
            source=data["source"],
            line=data["line"],
            reason=data["reason"],
            payload=data["payload"],
            received_at=datetime.fromisoformat(data["received_at"]),
            errors=tuple(FieldError(e["field"], e["code"], e["message"]) for e in data["errors"]),
        )

    def encode(self) -> bytes:
        return json.dumps(self.to_json(), separators=(",", ":"), ensure_ascii=False).encode()


class DeadLetterStore(abc.ABC):
    """Port: keep rejected records, idempotently, and list them back."""

    @abc.abstractmethod
    def put(self, letters: Sequence[DeadLetter]) -> int:
        """Keep the letters; returns how many were new (a letter already kept is not doubled)."""

    @abc.abstractmethod
    def list(self, limit: int | None = None) -> list[DeadLetter]:
        """Letters in the order they were first kept."""

    def count(self) -> int:
        return len(self.list())

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""
