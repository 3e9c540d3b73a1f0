"""Dead letters with their contents sealed, so an erasure reaches rejected records too.

A rejected record holds the same names, phones and e-mails as an accepted one, and the store
behind it may be a Kafka topic that cannot be rewritten. So :class:`SealedDeadLetters` seals
each letter's payload and error messages (:class:`~events.deadletter.Envelope`) before the
backend ever sees it, and opens them again on :meth:`~SealedDeadLetters.list`:

* under the **customer's** key when the record names its customer (``customer.id``, or
  ``customer_id``, of an NDJSON object; or the letter's ``customer_id`` when the caller knew
  it): destroying that key for an erasure shreds the customer's letters along with everything
  else of theirs;
* else under a key of the **letter's own** (owner :func:`letter_owner`), so nothing is kept in
  the clear either. Such a letter names no customer (unreadable JSON, a CSV row, a customer
  without an id), so an erasure finds it by what it says: :meth:`~SealedDeadLetters.letters_of`
  opens every letter and looks for the customer's id and personal values (phone, e-mail,
  name...), which the erasure reads while the customer's key still lives.

What stays readable without a key is what says what was wrong, not who: source, line, reason,
the fields and codes of the errors, and the (pseudonymous) customer id. A letter whose key is
gone lists as scrubbed (:attr:`~events.deadletter.DeadLetter.erased`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from typing import Any

import orjson

from events.deadletter import DeadLetter, DeadLetterStore, Envelope
from events.errors import FieldError, KeyDestroyed
from events.personal import PersonalVault

__all__ = ["SealedDeadLetters", "letter_owner", "mentions", "named_customer"]

_OWNER_PREFIX = "deadletter\x1f"


def letter_owner(letter_id: str) -> str:
    """Who owns the key of a letter that names no customer (never a customer id: customer ids
    are stripped text from JSON, and no source writes a unit separator into one)."""
    return f"{_OWNER_PREFIX}{letter_id}"


def named_customer(payload: str) -> str | None:
    """The customer id a rejected NDJSON payload names, if it names one plainly."""
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    customer = value.get("customer")
    cid = customer.get("id") if isinstance(customer, dict) else value.get("customer_id")
    return cid.strip() if isinstance(cid, str) and cid.strip() else None


def _needle(value: str) -> re.Pattern[str]:
    # Latin letters and digits around a value make it part of another word ("Li" in "Line",
    # "C1" in "C12"); other neighbours (punctuation, CJK text, which has no spaces) do not.
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", re.IGNORECASE)


def mentions(text: str, values: Iterable[str]) -> bool:
    """Whether ``text`` mentions any of ``values`` as a whole word (case-insensitive)."""
    return any(_needle(v).search(text) for v in values if v.strip())


def _attributed(letter: DeadLetter) -> DeadLetter:
    """``letter`` with the customer its payload names, when the caller did not say."""
    return replace(letter, customer_id=letter.customer_id or named_customer(letter.payload))


def _plain(letter: DeadLetter) -> tuple[tuple[str, Any], ...]:
    return (("payload", letter.payload), ("messages", tuple(e.message for e in letter.errors)))


class SealedDeadLetters(DeadLetterStore):
    """A dead-letter store that only ever hands its backend sealed letters (see module doc)."""

    def __init__(self, inner: DeadLetterStore, vault: PersonalVault) -> None:
        self.inner = inner
        self._vault = vault

    @staticmethod
    def _owner(letter: DeadLetter) -> str:
        return letter.customer_id or letter_owner(letter.letter_id)

    def _sealed(self, letter: DeadLetter) -> DeadLetter:
        """A letter in the clear (attributed, see :func:`_attributed`) as the backend keeps
        it: scrubbed, with its payload and messages sealed under its owner's key."""
        personal = self._vault.seal_plain(self._owner(letter), _plain(letter))
        return replace(letter.scrubbed(), envelope=Envelope(letter.letter_id, personal))

    def _opened(self, letter: DeadLetter) -> DeadLetter:
        envelope = letter.envelope
        if envelope is None or envelope.personal is None:
            return letter
        try:
            plain = self._vault.open(self._owner(letter), envelope.personal)
        except KeyDestroyed:
            return letter.scrubbed()
        messages: list[str] = list(plain.get("messages") or ())
        messages += [""] * (len(letter.errors) - len(messages))
        return replace(
            letter,
            payload=str(plain.get("payload", "")),
            errors=tuple(
                FieldError(e.field, e.code, m)
                for e, m in zip(letter.errors, messages, strict=False)
            ),
            envelope=None,
        )

    def put(self, letters: Sequence[DeadLetter]) -> int:
        """Seal, then keep (every key the batch needs is created in one write)."""
        ready = [_attributed(letter) if letter.envelope is None else letter for letter in letters]
        self._vault.prepare([self._owner(letter) for letter in ready if letter.envelope is None])
        return self.inner.put(
            [self._sealed(letter) if letter.envelope is None else letter for letter in ready]
        )

    def list(self, limit: int | None = None) -> list[DeadLetter]:
        """Letters opened; those whose key was destroyed listed as scrubbed."""
        return [self._opened(letter) for letter in self.inner.list(limit)]

    def count(self) -> int:
        return self.inner.count()

    def scrub(self, letter_ids: Iterable[str]) -> int:
        return self.inner.scrub(letter_ids)

    def letters_of(self, customer_id: str, values: Collection[str] = ()) -> Sequence[DeadLetter]:
        """The letters not yet scrubbed that belong to ``customer_id`` (as the backend holds
        them): attributed to them, or mentioning their id or one of their personal ``values``."""
        return [
            letter
            for letter in self.inner.list()
            if not letter.erased
            and (letter.customer_id == customer_id or self._mentions(letter, customer_id, values))
        ]

    def _mentions(self, letter: DeadLetter, customer_id: str, values: Collection[str]) -> bool:
        opened = self._opened(letter)
        if opened.erased:
            return False
        text = "\n".join([opened.payload, *(e.message for e in opened.errors)])
        return mentions(text, [customer_id, *values])

    def close(self) -> None:
        self.inner.close()
