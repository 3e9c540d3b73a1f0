"""The erasure record: who erased which customer's personal data, when, why, and what it took.

Pure domain (eventsourcing's ``Aggregate`` only; no persistence, no I/O). One aggregate per
customer, its id derived from the customer id (:func:`erasure_id`), so "was this customer
erased?" is one lookup and erasing twice appends a ``Repeated`` event to the same record
instead of starting a second one. The customer id is kept: it is a pseudonymous key, and the
record is exactly what proves the erasure happened.

``when`` is the wall-clock moment the person acted (ISO 8601), passed in by the caller's clock.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from events.errors import ServicetraceError

__all__ = ["Erasure", "InvalidErasure", "checked_request", "erasure_id"]

_NAMESPACE = UUID("5e1f7ace-0006-4e2a-9b1c-3f4e5d6c7b8a")


class InvalidErasure(ServicetraceError, ValueError):
    """An erasure asked for without a customer, a person or a reason."""


def erasure_id(customer_id: str) -> UUID:
    """The id of ``customer_id``'s erasure record."""
    return uuid5(_NAMESPACE, customer_id)


def checked_request(customer_id: str, by: str, reason: str) -> tuple[str, str, str]:
    """The request stripped, or :class:`InvalidErasure` naming what is missing. Checked before
    anything is destroyed: an erasure nobody can account for must not happen."""
    for name, value in (("customer id", customer_id), ("who erases (--by)", by)):
        if not isinstance(value, str) or not value.strip():
            raise InvalidErasure(f"an erasure needs {name}: a non-empty text")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidErasure("an erasure needs a reason (--reason), e.g. the request's reference")
    return customer_id.strip(), by.strip(), reason.strip()


def _step(action: str, by: str, reason: str, when: str, keys: int, letters: int) -> dict[str, Any]:
    return {
        "action": action,
        "by": by,
        "reason": reason,
        "when": when,
        "keys_destroyed": keys,
        "letters_scrubbed": letters,
    }


class Erasure(Aggregate):
    """One customer's erasure and its repeats; see the module doc."""

    @staticmethod
    def create_id(customer_id: str, **_: Any) -> UUID:
        return erasure_id(customer_id)

    @event("Erased")
    def __init__(
        self,
        customer_id: str,
        by: str,
        reason: str,
        when: str,
        keys_destroyed: int,
        letters_scrubbed: int,
    ) -> None:
        self.customer_id = customer_id
        self.history: list[dict[str, Any]] = [
            _step("erased", by, reason, when, keys_destroyed, letters_scrubbed)
        ]

    @classmethod
    def record(
        cls,
        customer_id: str,
        by: str,
        reason: str,
        when: str,
        keys_destroyed: int,
        letters_scrubbed: int,
    ) -> Erasure:
        """The first erasure of ``customer_id`` (request checked)."""
        customer_id, by, reason = checked_request(customer_id, by, reason)
        return cls(
            customer_id=customer_id,
            by=by,
            reason=reason,
            when=when,
            keys_destroyed=keys_destroyed,
            letters_scrubbed=letters_scrubbed,
        )

    def repeat(
        self, by: str, reason: str, when: str, keys_destroyed: int, letters_scrubbed: int
    ) -> None:
        """Erased again: whatever came in since (a returning customer's new key, late dead
        letters) went too; the record keeps both."""
        _, by, reason = checked_request(self.customer_id, by, reason)
        self._repeated(
            by=by,
            reason=reason,
            when=when,
            keys_destroyed=keys_destroyed,
            letters_scrubbed=letters_scrubbed,
        )

    @event("Repeated")
    def _repeated(
        self, by: str, reason: str, when: str, keys_destroyed: int, letters_scrubbed: int
    ) -> None:
        self.history.append(_step("repeated", by, reason, when, keys_destroyed, letters_scrubbed))

    @property
    def first(self) -> dict[str, Any]:
        return self.history[0]

    @property
    def keys_destroyed(self) -> int:
        return sum(int(step["keys_destroyed"]) for step in self.history)

    @property
    def letters_scrubbed(self) -> int:
        return sum(int(step["letters_scrubbed"]) for step in self.history)
