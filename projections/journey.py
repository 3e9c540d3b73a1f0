"""The journey row: one flat row per touchpoint, and the timeline entry read back from it.

Pure domain code (no I/O): :mod:`projections.views.journey_view` owns the ClickHouse table
(ClickHouse itself flattens the Avro records into these columns). The row keeps *every* fact
of the touchpoint so an auditor can replay a journey from the view alone, with two deliberate
choices:

* Times are stored as UTC microseconds plus the original UTC offset in minutes, so the timeline
  sorts globally yet shows each contact in the local time it happened.
* Personal data stays sealed: the row carries the key id, nonce and ciphertext, never plaintext,
  so erasing a customer's key erases them from this view too. Identifiers are keyed hashes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from events.taxonomy import ActorType, Channel, Direction, Kind, Outcome
from events.touchpoint import Attachment, SealedPersonal

__all__ = [
    "JOURNEY_COLUMNS",
    "JourneyEntry",
    "entry_from_row",
    "from_micros",
    "to_micros",
]

#: Column order of :func:`journey_row` (and of the ``journey`` table).
JOURNEY_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "occurred_at",
    "occurred_offset_minutes",
    "recorded_at",
    "recorded_offset_minutes",
    "event_id",
    "partition",
    "position",
    "schema_version",
    "source_system",
    "source_event_id",
    "id_phone",
    "id_email",
    "id_account",
    "id_social",
    "personal_key_id",
    "personal_nonce",
    "personal_ciphertext",
    "channel",
    "direction",
    "actor_type",
    "actor_id",
    "kind",
    "service_type",
    "case_id",
    "contact_id",
    "parent_event_id",
    "outcome",
    "score",
    "wait_seconds",
    "handle_seconds",
    "text",
    "attachments",
    "attributes",
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_micros(moment: datetime) -> int:
    """Exact microseconds since the epoch (no float rounding), the DateTime64(6) tick."""
    return (moment - _EPOCH) // _MICROSECOND


def _offset_minutes(moment: datetime) -> int:
    offset = moment.utcoffset()
    return 0 if offset is None else offset // timedelta(minutes=1)


def from_micros(micros: int | datetime, offset_minutes: int) -> datetime:
    """The moment ``micros`` (or a UTC datetime) shown in its original UTC offset."""
    moment = micros if isinstance(micros, datetime) else _EPOCH + micros * _MICROSECOND
    return moment.astimezone(timezone(timedelta(minutes=offset_minutes)))


@dataclass(frozen=True, slots=True)
class JourneyEntry:
    """One touchpoint as the journey view shows it: every fact, personal data still sealed."""

    event_id: UUID
    customer_id: str
    occurred_at: datetime
    recorded_at: datetime
    channel: Channel
    direction: Direction
    actor_type: ActorType
    actor_id: str | None
    kind: Kind
    service_type: str
    source_system: str
    source_event_id: str | None
    partition: int
    position: int
    schema_version: int = 1
    identifiers: dict[str, str] = field(default_factory=dict)
    personal: SealedPersonal | None = None
    case_id: str | None = None
    contact_id: str | None = None
    parent_event_id: str | None = None
    outcome: Outcome | None = None
    score: int | None = None
    wait_seconds: float | None = None
    handle_seconds: float | None = None
    text: str | None = None
    attachments: tuple[Attachment, ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)


def _sealed(
    key_id: str | None, nonce: bytes | None, ciphertext: bytes | None
) -> SealedPersonal | None:
    if key_id is None or nonce is None or ciphertext is None:
        return None
    return SealedPersonal(key_id=key_id, nonce=nonce, ciphertext=ciphertext)


def _attachments(raw: str) -> tuple[Attachment, ...]:
    return tuple(
        Attachment(uri=uri, media_type=media_type, sha256=sha256)
        for uri, media_type, sha256 in json.loads(raw)
    )


def entry_from_row(row: tuple[Any, ...]) -> JourneyEntry:
    """The entry of a ``journey`` row selected in :data:`JOURNEY_COLUMNS` order."""
    r = dict(zip(JOURNEY_COLUMNS, row, strict=True))
    identifiers = {
        name: r[f"id_{name}"]
        for name in ("phone", "email", "account", "social")
        if r[f"id_{name}"] is not None
    }
    return JourneyEntry(
        event_id=UUID(str(r["event_id"])),
        customer_id=r["customer_id"],
        occurred_at=from_micros(r["occurred_at"], r["occurred_offset_minutes"]),
        recorded_at=from_micros(r["recorded_at"], r["recorded_offset_minutes"]),
        channel=Channel(r["channel"]),
        direction=Direction(r["direction"]),
        actor_type=ActorType(r["actor_type"]),
        actor_id=r["actor_id"],
        kind=Kind(r["kind"]),
        service_type=r["service_type"],
        source_system=r["source_system"],
        source_event_id=r["source_event_id"],
        partition=int(r["partition"]),
        position=int(r["position"]),
        schema_version=int(r["schema_version"]),
        identifiers=identifiers,
        personal=_sealed(r["personal_key_id"], r["personal_nonce"], r["personal_ciphertext"]),
        case_id=r["case_id"],
        contact_id=r["contact_id"],
        parent_event_id=r["parent_event_id"],
        outcome=None if r["outcome"] is None else Outcome(r["outcome"]),
        score=r["score"],
        wait_seconds=r["wait_seconds"],
        handle_seconds=r["handle_seconds"],
        text=r["text"],
        attachments=_attachments(r["attachments"]),
        attributes=dict(r["attributes"]),
    )
