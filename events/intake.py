"""Intake: a submitted record (canonical NDJSON shape, personal data in the clear) → Touchpoint.

The submitted shape differs from the stored one in exactly one way: it carries the customer's
personal data readable, under ``customer``::

    {"occurred_at": "2024-03-01T09:31:00+08:00",        # required, timezone-aware
     "recorded_at": "2024-03-01T09:31:05+08:00",        # optional: defaults to the ingest clock
     "source": {"system": "crm", "event_id": "A-17"},   # event id = uuid5(system, event_id)
     "customer": {"id": "C000123", "name": "...", "phone": "...", "email": "...",
                  "account": "...", "social_handle": "...", "address": "..."},
     "channel": "phone", "direction": "inbound", "actor": {"type": "customer"},
     "kind": "complaint", "service_type": "outage", "case_id": "K-9", "contact_id": "...",
     "parent_event_id": "...", "outcome": "resolved", "score": 4, "wait_seconds": 31,
     "handle_seconds": 240, "text": "...", "attachments": [...], "attributes": {...}}

On the way in, identifiers become keyed hashes and personal fields (plus ``text`` when the
customer wrote it) are sealed under the customer's key; nothing personal passes in the clear.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar

from pydantic import ValidationError

from events.errors import FieldError, InvalidTouchpoint
from events.identity import IdentifierHasher, content_event_id, source_event_id
from events.personal import PersonalVault, Plain, plain_fields
from events.touchpoint import (
    TEXT_MAX_LENGTH,
    Actor,
    Identifiers,
    Touchpoint,
    touchpoint_fields,
)

__all__ = ["Clock", "Intake", "field_errors"]

Clock = Callable[[], datetime]

_IDENTIFIER_FIELDS = (
    ("phone", "phone"),
    ("email", "email"),
    ("account", "account"),
    ("social", "social_handle"),
)
_CUSTOMER_KEYS = frozenset({"id", "name", "phone", "email", "account", "social_handle", "address"})


#: ``Touchpoint.model_validate`` without its keyword-argument plumbing, which costs as much as
#: validating a small model (about 1 µs a record).
_validate_touchpoint: Callable[[Any], Touchpoint] = (
    Touchpoint.__pydantic_validator__.validate_python
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Pydantic's errors as (field, code, message), field paths dotted like the input."""
    return [
        FieldError(".".join(str(p) for p in err["loc"]) or "record", err["type"], err["msg"])
        for err in exc.errors(include_url=False)
    ]


def _invalid(exc: ValidationError) -> InvalidTouchpoint:
    errors = field_errors(exc)
    return InvalidTouchpoint(errors[0].code, errors)


def _validated(fields: dict[str, Any]) -> Touchpoint:
    try:
        return _validate_touchpoint(fields)
    except ValidationError as exc:
        raise _invalid(exc) from None


def _reject(field: str, code: str, message: str) -> InvalidTouchpoint:
    return InvalidTouchpoint(code, [FieldError(field, code, message)])


class _Customer(NamedTuple):
    """What a valid ``customer`` object contributes to every touchpoint of that customer."""

    id: str
    identifiers: Identifiers
    plain: Plain


class Intake:
    """Turns submitted records into canonical touchpoints; the only place raw PII is handled."""

    def __init__(self, hasher: IdentifierHasher, vault: PersonalVault, clock: Clock = _utc_now):
        self._hasher = hasher
        self._vault = vault
        self._clock = clock
        self._customers: dict[_Key, _Customer] = {}
        self._actors: dict[_Key, Actor] = {}

    def prepare(self, records: Iterable[Any]) -> None:
        """Create the keys of the customers in ``records`` in one go (ill-formed ones skipped:
        :meth:`touchpoint` rejects them with a reason)."""
        ids = (_customer_id(r) for r in records)
        self._vault.prepare(cid for cid in ids if cid)

    def touchpoint(self, record: Mapping[str, Any]) -> Touchpoint:
        """Validate, identify, hash and seal one record, or raise :class:`InvalidTouchpoint`."""
        return _validated(self._fields(record))

    def touchpoint_fields(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """What :meth:`touchpoint` returns, as the model's field values (its ``__dict__``)
        with ``event_id`` as its canonical text; or the same :class:`InvalidTouchpoint`.

        The bulk-ingest path: the fields are validated by the model's own rules without
        building the model (see :func:`~events.touchpoint.touchpoint_fields`), and an encoder
        writes them directly. A record they reject is handed to the model, so every rejection
        carries exactly the reasons and messages :meth:`touchpoint` gives.
        """
        fields = self._fields(record)
        try:
            valid = touchpoint_fields(fields)
        except ValueError:  # rare: let the model report it, exactly as touchpoint() does
            valid = dict(_validated(fields).__dict__)
        event_id = fields["event_id"]
        # An id intake made is already canonical text (uuid5_text); a submitted one may not be.
        valid["event_id"] = event_id if not record.get("event_id") else str(valid["event_id"])
        return valid

    def _fields(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The record as the touchpoint's fields: customer checked, identified, hashed and
        sealed, event id and recorded time filled in; left for the model's rules to validate."""
        if not isinstance(record, Mapping):
            raise _reject("record", "not_an_object", "a touchpoint must be a JSON object")
        customer = self._customer(record.get("customer"))
        fields = dict(record)
        del fields["customer"]
        if not fields.get("event_id"):
            fields["event_id"] = self._event_id(record)
        if "recorded_at" not in fields:
            fields["recorded_at"] = self._clock()
        fields["customer_id"] = customer.id
        fields["identifiers"] = customer.identifiers
        plain = customer.plain
        # Only a string of an acceptable length is sealed as the customer's words; anything
        # else stays put for validation to reject by field (a list or an object failed as an
        # unexpected error once, and an over-long text escaped the length limit).
        if _customer_wrote(record) and _sealable_text(fields.get("text")):
            plain += (("note", fields.pop("text")),)  # note is the last personal field
        if "actor" in fields:
            fields["actor"] = self._actor(fields["actor"])
        try:
            fields["personal"] = self._vault.seal_plain(customer.id, plain)
        except ValidationError as exc:
            raise _invalid(exc) from None
        return fields

    def _customer(self, value: Any) -> _Customer:
        """The checked customer; customers call again and again, so each is remembered by its
        exact fields (see :func:`_exact_key`)."""
        key = _exact_key(value)
        known = self._customers.get(key) if key is not None else None
        if known is not None:
            return known
        customer = _checked_customer(value)
        hashes = {kind: self._hasher.hash(kind, customer.get(k)) for kind, k in _IDENTIFIER_FIELDS}
        known = _Customer(customer["id"], Identifiers(**hashes), plain_fields(customer))
        return _remember(self._customers, key, known)

    def _actor(self, value: Any) -> Any:
        """The validated :class:`Actor` when ``value`` is a valid one, else ``value`` itself (the
        touchpoint's validation then reports it). A few actors act again and again: each is
        remembered by its exact fields (see :func:`_exact_key`)."""
        key = _exact_key(value)
        actor = self._actors.get(key) if key is not None else None
        if actor is not None:
            return actor
        try:
            return _remember(self._actors, key, Actor.model_validate(value))
        except ValidationError:
            return value

    @staticmethod
    def _event_id(record: Mapping[str, Any]) -> Any:
        source = record.get("source")
        if not isinstance(source, Mapping) or not isinstance(source.get("system"), str):
            raise _reject("source.system", "missing", "source.system is required")
        sid = source.get("event_id")
        if sid not in (None, ""):
            return source_event_id(source["system"], str(sid))
        return content_event_id(source["system"], record)


_Key = tuple[tuple[Any, Any], ...]
_V = TypeVar("_V")

#: Bound of each of intake's caches (customers, actors).
_CACHE_SIZE = 50_000


def _exact_key(value: Any) -> _Key | None:
    """A cache key for a JSON object, ``None`` when it has none (not a dict, unhashable).

    Only objects that passed validation are remembered, and their values are strings (or enum
    symbols, which are strings) or ``None``: equal keys then mean identical input. The
    cross-type equalities (``1 == 1.0 == True``) are between values no string field accepts.
    """
    if not isinstance(value, dict):
        return None
    key = tuple(value.items())
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _remember(cache: dict[_Key, _V], key: _Key | None, value: _V) -> _V:
    if key is not None:
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[key] = value
    return value


def _checked_customer(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _reject("customer", "missing", "customer is required: an object with an id")
    for key, item in value.items():
        if key not in _CUSTOMER_KEYS:
            raise _reject(f"customer.{key}", "extra_forbidden", "unknown customer field")
        if item is not None and not isinstance(item, str):
            raise _reject(f"customer.{key}", "string_type", "must be a string")
    cid = value.get("id")
    if not cid or not cid.strip():
        raise _reject("customer.id", "missing", "customer.id must be a non-empty string")
    return {**value, "id": cid.strip()}


def _customer_id(record: Any) -> str | None:
    customer = record.get("customer") if isinstance(record, Mapping) else None
    cid = customer.get("id") if isinstance(customer, Mapping) else None
    return cid.strip() if isinstance(cid, str) and cid.strip() else None


def _sealable_text(text: object) -> bool:
    return isinstance(text, str) and 0 < len(text) <= TEXT_MAX_LENGTH


def _customer_wrote(fields: Mapping[str, Any]) -> bool:
    actor = fields.get("actor")
    return isinstance(actor, Mapping) and actor.get("type") == "customer"
