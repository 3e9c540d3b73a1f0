"""The journey fold: one flat row per touchpoint, and the timeline entry read back from it.

Pure domain code (no I/O): :mod:`projections.views.journey_view` owns the ClickHouse table and
turns these rows into inserts. The row keeps *every* fact of the touchpoint so an auditor can
replay a journey from the view alone, with two deliberate choices:

* Times are stored as UTC microseconds plus the original UTC offset in minutes, so the timeline
  sorts globally yet shows each contact in the local time it happened.
* Personal data stays sealed: the row carries the key id, nonce and ciphertext, never plaintext,
  so erasing a customer's key erases them from this view too. Identifiers are keyed hashes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from events.taxonomy import ActorType, Channel, Direction, Kind, Outcome
from events.touchpoint import Attachment, SealedPersonal, Touchpoint

__all__ = [
    "JOURNEY_COLUMNS",
    "JourneyEntry",
    "entry_from_row",
    "from_micros",
    "journey_columns_from_avro",
    "journey_row",
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


def _attachments_json(attachments: tuple[Attachment, ...]) -> str:
    if not attachments:
        return "[]"
    return json.dumps([[a.uri, a.media_type, a.sha256] for a in attachments], separators=(",", ":"))


def journey_row(record_partition: int, record_position: int, tp: Touchpoint) -> tuple[Any, ...]:
    """The ``journey`` row of ``tp``, read from ``record_partition`` at ``record_position``."""
    ids = tp.identifiers
    personal = tp.personal
    return (
        tp.customer_id,
        to_micros(tp.occurred_at),
        _offset_minutes(tp.occurred_at),
        to_micros(tp.recorded_at),
        _offset_minutes(tp.recorded_at),
        tp.event_id,
        record_partition,
        record_position,
        tp.schema_version,
        tp.source.system,
        tp.source.event_id,
        ids.phone,
        ids.email,
        ids.account,
        ids.social,
        None if personal is None else personal.key_id,
        None if personal is None else personal.nonce,
        None if personal is None else personal.ciphertext,
        tp.channel.value,
        tp.direction.value,
        tp.actor.type.value,
        tp.actor.id,
        tp.kind.value,
        tp.service_type,
        tp.case_id,
        tp.contact_id,
        tp.parent_event_id,
        None if tp.outcome is None else tp.outcome.value,
        tp.score,
        tp.wait_seconds,
        tp.handle_seconds,
        tp.text,
        _attachments_json(tp.attachments),
        tp.attributes,
    )


def _attachments_json_from_avro(attachments: list[dict[str, str]]) -> str:
    if not attachments:
        return "[]"
    return json.dumps(
        [[a["uri"], a["media_type"], a["sha256"]] for a in attachments], separators=(",", ":")
    )


def journey_columns_from_avro(
    partition: int, positions: Sequence[int], records: Sequence[Mapping[str, Any]]
) -> list[list[Any]]:
    """The ``journey`` columns (in :data:`JOURNEY_COLUMNS` order) of decoded Avro records.

    The projector's fast path: the Avro record already holds the row's facts (UTC instants,
    offsets apart), so building columns straight from it skips constructing models and the
    row-to-column pivot. Equal, value for value, to pivoting :func:`journey_row` of the model.
    """
    rs = records
    sources = [r["source"] for r in rs]
    ids = [r["identifiers"] for r in rs]
    sealed = [r["personal"] or _NO_PERSONAL for r in rs]
    actors = [r["actor"] for r in rs]
    return [
        [r["customer_id"] for r in rs],
        [to_micros(r["occurred_at"]) for r in rs],
        [r["occurred_offset_minutes"] for r in rs],
        [to_micros(r["recorded_at"]) for r in rs],
        [r["recorded_offset_minutes"] for r in rs],
        [r["event_id"] for r in rs],
        [partition] * len(rs),
        list(positions),
        [r["schema_version"] for r in rs],
        [s["system"] for s in sources],
        [s["event_id"] for s in sources],
        [i["phone"] for i in ids],
        [i["email"] for i in ids],
        [i["account"] for i in ids],
        [i["social"] for i in ids],
        [p["key_id"] for p in sealed],
        [p["nonce"] for p in sealed],
        [p["ciphertext"] for p in sealed],
        [r["channel"] for r in rs],
        [r["direction"] for r in rs],
        [a["type"] for a in actors],
        [a["id"] for a in actors],
        [r["kind"] for r in rs],
        [r["service_type"] for r in rs],
        [r["case_id"] for r in rs],
        [r["contact_id"] for r in rs],
        [r["parent_event_id"] for r in rs],
        [r["outcome"] for r in rs],
        [r["score"] for r in rs],
        [r["wait_seconds"] for r in rs],
        [r["handle_seconds"] for r in rs],
        [r["text"] for r in rs],
        [_attachments_json_from_avro(r["attachments"]) for r in rs],
        [r["attributes"] for r in rs],
    ]


_NO_PERSONAL: Mapping[str, None] = {"key_id": None, "nonce": None, "ciphertext": None}


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
