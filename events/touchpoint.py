"""The canonical touchpoint: one immutable record per customer contact, in any channel.

This module is pure domain: it imports no infrastructure. Every channel connector produces
exactly this shape (via :mod:`events.intake`), the Avro schema ``schemas/touchpoint.v1.avsc``
mirrors it field for field, and every projection folds over it.

Two decisions here shape the later capabilities:

* **Bitemporal.** ``occurred_at`` is when it happened in the world (timezone-aware, original
  offset kept); ``recorded_at`` is when our system knew it. As-of replay ("what was known at T")
  needs both, from the first event on.
* **Personal data is never stored in the clear.** Identifiers are kept only as keyed hashes
  (for matching a caller to a customer) and names, contact details, addresses and the customer's
  own words travel in :class:`SealedPersonal`, encrypted under a per-customer key. Destroying the
  key erases the person from every event, view and replay while counts still replay identically.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, Self, cast
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic_core import PydanticCustomError, SchemaValidator

from events.taxonomy import (
    CUSTOMER_INITIATED_KINDS,
    PROVIDER_KINDS,
    ActorType,
    Channel,
    Direction,
    Kind,
    Outcome,
    normalise_service_type,
)

__all__ = [
    "SCHEMA_VERSION",
    "Actor",
    "Attachment",
    "Identifiers",
    "SealedPersonal",
    "Source",
    "Touchpoint",
    "touchpoint_fields",
]

SCHEMA_VERSION = 1

#: Systems' clocks disagree a little; beyond this, "recorded before it occurred" is bad data.
CLOCK_SKEW_TOLERANCE = timedelta(minutes=5)

_FROZEN = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

#: The longest free text a touchpoint carries (the customer's words are sealed, not exempt).
TEXT_MAX_LENGTH = 10_000
NonEmpty = Annotated[str, Field(min_length=1, max_length=256)]
OptionalRef = Annotated[str | None, Field(default=None, min_length=1, max_length=256)]


def _non_negative(value: float | None) -> float | None:
    if value is not None and value < 0:
        raise PydanticCustomError(
            "negative_duration",
            "duration cannot be negative (got {value} seconds)",
            {"value": value},
        )
    return value


def _score_in_range(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= 5:
        raise PydanticCustomError(
            "score_out_of_range", "feedback score must be 1 to 5 (got {value})", {"value": value}
        )
    return value


Seconds = Annotated[float | None, AfterValidator(_non_negative)]
Score = Annotated[int | None, AfterValidator(_score_in_range)]
ServiceType = Annotated[
    str, Field(min_length=1, max_length=128), AfterValidator(normalise_service_type)
]


class Source(BaseModel):
    """Where the record came from: the system and, when it has one, that system's own id."""

    model_config = _FROZEN

    system: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
    event_id: OptionalRef = None


class Actor(BaseModel):
    """Who acted: the customer, an agent, a system or a bot (with its id when known)."""

    model_config = _FROZEN

    type: ActorType
    id: OptionalRef = None


class Identifiers(BaseModel):
    """Keyed hashes (HMAC-SHA256, hex) of the customer's identifiers: matchable, not readable."""

    model_config = _FROZEN

    phone: str | None = None
    email: str | None = None
    account: str | None = None
    social: str | None = None


class SealedPersonal(BaseModel):
    """The customer's personal fields, encrypted (AES-256-GCM) under the key ``key_id``.

    The plaintext is a small JSON object (name, phone, email, address, account, social handle,
    the customer's own words). Only :mod:`events.personal` opens it, and only while the key lives.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", ser_json_bytes="base64", val_json_bytes="base64"
    )

    key_id: NonEmpty
    nonce: bytes = Field(min_length=12, max_length=12)
    ciphertext: bytes = Field(min_length=16)


_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$")


class Attachment(BaseModel):
    """A document or recording attached to the touchpoint, pinned by its content hash."""

    model_config = _FROZEN

    uri: Annotated[str, Field(min_length=1, max_length=2048)]
    media_type: Annotated[str, Field(pattern=_MEDIA_TYPE.pattern)]
    sha256: Annotated[str, Field(pattern=_SHA256.pattern)]


class Touchpoint(BaseModel):
    """One contact between a customer and the organisation, as the immutable log keeps it."""

    model_config = _FROZEN

    event_id: UUID
    schema_version: int = SCHEMA_VERSION
    occurred_at: AwareDatetime
    recorded_at: AwareDatetime
    source: Source
    customer_id: Annotated[str, Field(min_length=1, max_length=128)]
    identifiers: Identifiers = Identifiers()
    personal: SealedPersonal | None = None
    channel: Channel
    direction: Direction
    actor: Actor
    kind: Kind
    service_type: ServiceType
    case_id: OptionalRef = None
    contact_id: OptionalRef = None
    parent_event_id: OptionalRef = None
    outcome: Outcome | None = None
    score: Score = None
    wait_seconds: Seconds = None
    handle_seconds: Seconds = None
    text: Annotated[str | None, Field(default=None, max_length=TEXT_MAX_LENGTH)] = None
    attachments: Annotated[tuple[Attachment, ...], Field(max_length=32)] = ()
    attributes: Annotated[dict[str, str], Field(max_length=64)] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        """Cross-field rules: the combinations no real contact can have."""
        _check_coherent(self.__dict__)
        return self

    @property
    def is_customer_side(self) -> bool:
        return self.kind in CUSTOMER_INITIATED_KINDS


def _check_coherent(fields: dict[str, Any]) -> None:
    """The cross-field rules, on a touchpoint's validated field values (the model's
    ``__dict__``, or what :func:`touchpoint_fields` returns): one definition for both."""
    kind = fields["kind"]
    _check_direction(kind, fields["direction"])
    _check_actor(kind, fields["actor"].type)
    _check_score(kind, fields["score"])
    _check_times(fields["occurred_at"], fields["recorded_at"])
    parent = fields["parent_event_id"]
    if parent is not None and parent == str(fields["event_id"]):
        raise PydanticCustomError("self_parent", "a touchpoint cannot be its own parent")


def _fields_validator() -> Callable[[Any], tuple[dict[str, Any], Any, Any]]:
    """pydantic-core's validator of the touchpoint's fields alone, taken from the model's own
    core schema (so every field rule, default and message is the model's, by construction):
    the ``model-fields`` schema that the ``model`` schema wraps, with the model's config."""
    model = cast(dict[str, Any], Touchpoint.__pydantic_core_schema__)
    while model["type"] != "model":  # the model validator wraps the model schema
        model = model["schema"]
    fields = model["schema"]
    if fields["type"] != "model-fields":
        raise TypeError(f"unexpected core schema for Touchpoint: {fields['type']}")
    validator = SchemaValidator(cast(Any, fields), cast(Any, model.get("config")))
    return validator.validate_python


_validate_fields = _fields_validator()


def touchpoint_fields(values: Any) -> dict[str, Any]:
    """Validate ``values`` exactly as :class:`Touchpoint` does and return the field values
    the model would hold (its ``__dict__``), without building the model.

    Why: bulk ingest only encodes a touchpoint, and building the frozen model (with a nested
    model and a Python validator around it) is a fifth of validation's cost. Raises a
    ``ValueError``: pydantic's ``ValidationError`` for a bad field, ``PydanticCustomError``
    for an incoherent combination (the model reports the same rule as a ``ValidationError``;
    callers needing its exact report validate with the model).
    """
    fields = _validate_fields(values)[0]
    _check_coherent(fields)
    return fields


def _check_direction(kind: Kind, direction: Direction) -> None:
    if kind in CUSTOMER_INITIATED_KINDS and direction is Direction.OUTBOUND:
        raise PydanticCustomError(
            "customer_kind_outbound",
            "a {kind} cannot be outbound: the customer originates it (use inbound, or a "
            "provider-side kind such as callback or notification_sent)",
            {"kind": kind.value},
        )


def _check_actor(kind: Kind, actor: ActorType) -> None:
    if kind in PROVIDER_KINDS and actor is ActorType.CUSTOMER:
        raise PydanticCustomError(
            "provider_kind_by_customer",
            "a {kind} is performed by the organisation, so its actor cannot be the customer",
            {"kind": kind.value},
        )


def _check_score(kind: Kind, score: int | None) -> None:
    if score is not None and kind is not Kind.FEEDBACK:
        raise PydanticCustomError(
            "score_without_feedback",
            "a satisfaction score belongs on a feedback touchpoint, not on a {kind}",
            {"kind": kind.value},
        )


def _check_times(occurred_at: datetime, recorded_at: datetime) -> None:
    if recorded_at < occurred_at - CLOCK_SKEW_TOLERANCE:
        raise PydanticCustomError(
            "recorded_before_occurred",
            "recorded_at {recorded} is before occurred_at {occurred}: a record cannot be "
            "known before it happens",
            {"recorded": recorded_at.isoformat(), "occurred": occurred_at.isoformat()},
        )
