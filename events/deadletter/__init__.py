"""The dead-letter port: every rejected record, kept with its original payload and the reason.

"Nothing lost" means a record that cannot become a touchpoint is not dropped: it is kept here,
verbatim, with where it came from (source and line) and every broken rule, so an operator can
fix the source or the mapping and submit it again. Letters are idempotent by ``letter_id`` (a
hash of source, line and payload): re-ingesting a file does not pile up copies.

Backends: :mod:`.memory`, :mod:`.sqlite` (embedded) and :mod:`.kafka` (topic
``servicetrace.deadletter.v1``); all pass ``tests/contract/deadletter_contract.py``.

A rejected record is as personal as an accepted one, so the platform never hands a backend a
payload in the clear: :class:`~events.deadletter.sealed.SealedDeadLetters` wraps the backend
and seals each letter's payload and error messages (:class:`Envelope`) under the customer's
key when the record names its customer, else under a key of the letter's own. Erasure destroys
those keys and then asks the backend to :meth:`DeadLetterStore.scrub` the letters, which keep
their place, source, line, reason and error codes (nothing lost, counts unchanged) but no
contents.
"""

from __future__ import annotations

import abc
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from events.errors import FieldError
from events.touchpoint import SealedPersonal

__all__ = ["DeadLetter", "DeadLetterStore", "Envelope", "letter_id"]


def letter_id(source: str, line: int | None, payload: str) -> str:
    """Stable id of a rejected record: the same line of the same file is the same letter."""
    return hashlib.sha256(f"{source}\x1f{line}\x1f{payload}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Envelope:
    """What a sealed letter keeps instead of its payload and error messages.

    ``letter_id`` is kept because it can no longer be computed (its input, the payload, is
    sealed); ``personal`` is ``None`` once the letter was scrubbed (erased).
    """

    letter_id: str
    personal: SealedPersonal | None = None

    def to_json(self) -> dict[str, Any]:
        sealed = self.personal.model_dump(mode="json") if self.personal is not None else None
        return {"letter_id": self.letter_id, "personal": sealed}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Envelope:
        sealed = data.get("personal")
        personal = SealedPersonal.model_validate_json(json.dumps(sealed)) if sealed else None
        return cls(data["letter_id"], personal)


@dataclass(frozen=True)
class DeadLetter:
    """A rejected record: in the clear (``envelope is None``), sealed, or scrubbed.

    ``customer_id`` is the (pseudonymous) customer the record names, when it names one: an
    erasure finds the customer's letters by it.
    """

    source: str
    line: int | None
    reason: str
    payload: str
    received_at: datetime
    errors: tuple[FieldError, ...] = field(default=())
    customer_id: str | None = None
    envelope: Envelope | None = None

    @property
    def letter_id(self) -> str:
        if self.envelope is not None:
            return self.envelope.letter_id
        return letter_id(self.source, self.line, self.payload)

    @property
    def erased(self) -> bool:
        """Scrubbed: the letter is still counted and listed, but its contents are gone."""
        return self.envelope is not None and self.envelope.personal is None

    def scrubbed(self) -> DeadLetter:
        """This letter without contents: no payload, no envelope, no error messages (the
        fields and codes of its errors stay: they say what was wrong, not who)."""
        return DeadLetter(
            source=self.source,
            line=self.line,
            reason=self.reason,
            payload="",
            received_at=self.received_at,
            errors=tuple(FieldError(e.field, e.code, "") for e in self.errors),
            customer_id=self.customer_id,
            envelope=Envelope(self.letter_id),
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "letter_id": self.letter_id,
            "source": self.source,
            "line": self.line,
            "reason": self.reason,
            "errors": [
                {"field": e.field, "code": e.code, "message": e.message} for e in self.errors
            ],
            "payload": self.payload,
            "received_at": self.received_at.isoformat(),
            "customer_id": self.customer_id,
            "erased": self.erased,
        }
        if self.envelope is not None and self.envelope.personal is not None:
            data["envelope"] = self.envelope.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeadLetter:
        return cls(
            source=data["source"],
            line=data["line"],
            reason=data["reason"],
            payload=data["payload"],
            received_at=datetime.fromisoformat(data["received_at"]),
            errors=tuple(FieldError(e["field"], e["code"], e["message"]) for e in data["errors"]),
            customer_id=data.get("customer_id"),
            envelope=_envelope(data),
        )

    def encode(self) -> bytes:
        return json.dumps(self.to_json(), separators=(",", ":"), ensure_ascii=False).encode()


def _envelope(data: dict[str, Any]) -> Envelope | None:
    """A letter's envelope from its JSON: sealed, scrubbed (``erased``), or none (in the clear)."""
    if data.get("envelope"):
        return Envelope.from_json(data["envelope"])
    if data.get("erased"):
        return Envelope(data["letter_id"])
    return None


class DeadLetterStore(abc.ABC):
    """Port: keep rejected records, idempotently, and list them back."""

    @abc.abstractmethod
    def put(self, letters: Sequence[DeadLetter]) -> int:
        """Keep the letters; returns how many were new (a letter already kept is not doubled)."""

    @abc.abstractmethod
    def list(self, limit: int | None = None) -> list[DeadLetter]:
        """Letters in the order they were first kept."""

    @abc.abstractmethod
    def scrub(self, letter_ids: Iterable[str]) -> int:
        """Forget the contents of these letters (erasure): afterwards :meth:`list` shows each as
        :meth:`DeadLetter.scrubbed`, in its place; the count is unchanged and putting the same
        letter again does not bring it back. Returns how many were scrubbed now (letters
        already scrubbed, and unknown ids, are not counted)."""

    def count(self) -> int:
        return len(self.list())

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""
