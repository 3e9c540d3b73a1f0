"""Erasing a customer (PIPL / GDPR): destroy their keys, scrub their dead letters, record it.

Crypto-shredding: no event is rewritten. Every personal field of the customer, in the log,
in the views, in backups and in the sealed dead letters, is ciphertext under the customer's
key; destroying the key turns all of it into noise at once, while everything that is not
personal (kinds, channels, times, outcomes, scores, the scenes and decisions folded from them)
replays exactly as before. The views keep the very same ciphertext columns, so their checksums
do not move either.

The order matters:

1. the customer's personal values are read (from the journey view) *while the key lives*, to
   find the dead letters that name no customer but mention them;
2. keys are destroyed: the customer's, and those of the letters found that had their own;
3. the letters are scrubbed in the store (for SQLite the sealed bytes are zeroed too);
4. the erasure is recorded, last, so a crash leaves an erasure to run again, never a record of
   one that did not happen. Running it again is safe: it destroys whatever came in since (a
   returning customer gets a new key) and records a repeat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eventsourcing.application import AggregateNotFoundError

from events.deadletter.sealed import letter_owner
from events.errors import KeyDestroyed
from services.erasure.domain import Erasure, checked_request, erasure_id
from services.moments import wall_clock
from services.platform import Platform

__all__ = ["ErasureOutcome", "NothingToErase", "erase", "erased", "personal_values"]

#: Personal fields worth looking for in dead letters (the customer's own words are not: they
#: are long free text, and what they say about a person is found by the fields anyway).
_SEARCHED = ("name", "phone", "email", "account", "social_handle", "address")


class NothingToErase(LookupError):
    """The platform holds nothing of this customer: no key, no touchpoint, no dead letter.

    Not a :class:`~events.errors.ServicetraceError`: an unknown customer is an outcome (exit 1),
    most often a mistyped id, and recording an erasure of it would only mislead."""


@dataclass(frozen=True)
class ErasureOutcome:
    """What one run of :func:`erase` did, and the record as it now stands."""

    erasure: Erasure
    repeated: bool
    keys_destroyed: int
    letters_scrubbed: int


def erased(platform: Platform, customer_id: str) -> Erasure | None:
    """The customer's erasure record, or ``None`` when they were never erased."""
    try:
        found: object = platform.audit.repository.get(erasure_id(customer_id))
    except AggregateNotFoundError:
        return None
    return found if isinstance(found, Erasure) else None


def personal_values(platform: Platform, customer_id: str) -> tuple[int, set[str]]:
    """How many touchpoints the journey view holds of the customer, and the personal values
    their sealed fields open to (none once the key is gone)."""
    platform.projector  # noqa: B018 - creates the views of a home never projected
    entries = platform.journey_view.timeline(customer_id)
    seen: set[tuple[str, bytes]] = set()
    values: set[str] = set()
    for entry in entries:
        sealed = entry.personal
        if sealed is None or (sealed.key_id, sealed.nonce) in seen:
            continue
        seen.add((sealed.key_id, sealed.nonce))
        try:
            fields = platform.vault.open(customer_id, sealed)
        except KeyDestroyed:
            continue
        values.update(str(fields[k]) for k in _SEARCHED if fields.get(k))
    return len(entries), values


def erase(
    platform: Platform,
    customer_id: str,
    by: str,
    reason: str,
    clock: Callable[[], str] = wall_clock,
) -> ErasureOutcome:
    """Erase ``customer_id``'s personal data everywhere; see the module doc for the steps."""
    customer_id, by, reason = checked_request(customer_id, by, reason)
    record = erased(platform, customer_id)
    touchpoints, values = personal_values(platform, customer_id)
    letters = platform.deadletters.letters_of(customer_id, values)
    keys = platform.keys.destroy(customer_id)
    for letter in letters:
        if letter.customer_id != customer_id:
            platform.keys.destroy(letter_owner(letter.letter_id))
    scrubbed = platform.deadletters.scrub([letter.letter_id for letter in letters])
    if record is None and not (keys or letters or touchpoints):
        raise NothingToErase(
            f"no key, touchpoint or dead letter of customer {customer_id!r}: nothing erased, "
            "nothing recorded (is the id right?)"
        )
    when = clock()
    if record is None:
        record = Erasure.record(customer_id, by, reason, when, keys, scrubbed)
        repeated = False
    else:
        record.repeat(by, reason, when, keys, scrubbed)
        repeated = True
    platform.audit.save(record)
    return ErasureOutcome(record, repeated, keys, scrubbed)
