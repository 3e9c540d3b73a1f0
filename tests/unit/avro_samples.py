"""Touchpoints for the Avro tests: one with every optional field set, one with none.

Built with the real ``Touchpoint(...)`` constructor so every sample passes model validation,
exactly like what ingest hands to the serde.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

from events.taxonomy import ActorType, Channel, Direction, Kind, Outcome
from events.touchpoint import (
    Actor,
    Attachment,
    Identifiers,
    SealedPersonal,
    Source,
    Touchpoint,
)

__all__ = ["minimal_touchpoint", "rich_touchpoint", "zone"]


def zone(hours: int, minutes: int = 0) -> timezone:
    sign = -1 if hours < 0 else 1
    return timezone(sign * timedelta(hours=abs(hours), minutes=minutes))


def minimal_touchpoint(**overrides: Any) -> Touchpoint:
    """Only the required fields: every optional one is left at its default."""
    occurred = datetime(2024, 3, 4, 9, 45, 0, tzinfo=zone(8))
    fields: dict[str, Any] = {
        "event_id": uuid4(),
        "occurred_at": occurred,
        "recorded_at": occurred + timedelta(seconds=2),
        "source": Source(system="ivr"),
        "customer_id": "C-1",
        "channel": Channel.IVR,
        "direction": Direction.INBOUND,
        "actor": Actor(type=ActorType.CUSTOMER),
        "kind": Kind.SELF_SERVICE,
        "service_type": "bill_inquiry",
    }
    fields.update(overrides)
    return Touchpoint(**fields)


CHINA = zone(8)


def rich_touchpoint(tz: timezone = CHINA, **overrides: Any) -> Touchpoint:
    """Every optional field set, with multi-byte text and lengths past one varint byte."""
    occurred = datetime(2024, 7, 19, 22, 31, 5, 654321, tzinfo=tz)
    fields: dict[str, Any] = {
        "event_id": uuid4(),
        "occurred_at": occurred,
        "recorded_at": (occurred + timedelta(minutes=3, microseconds=7)).astimezone(zone(-5)),
        "source": Source(system="ccc.phone:east", event_id="call-000981"),
        "customer_id": "CUST-000123",
        "identifiers": Identifiers(
            phone="a" * 64, email="b" * 64, account="c" * 64, social="d" * 64
        ),
        "personal": SealedPersonal(key_id="key-7", nonce=bytes(range(12)), ciphertext=b"\xff" * 90),
        "channel": Channel.PHONE,
        "direction": Direction.INBOUND,
        "actor": Actor(type=ActorType.CUSTOMER, id="caller"),
        "kind": Kind.FEEDBACK,
        "service_type": "Power Outage",
        "case_id": "CASE-42",
        "contact_id": "CT-9",
        "parent_event_id": "parent-1",
        "outcome": Outcome.RESOLVED,
        "score": 4,
        "wait_seconds": 12.25,
        "handle_seconds": 301.5,
        "text": "停电两小时了, 请尽快处理 " * 10,
        "attachments": (
            Attachment(uri="s3://evidence/call-981.ogg", media_type="audio/ogg", sha256="0" * 64),
            Attachment(
                uri="https://x.example/f.pdf", media_type="application/pdf", sha256="f" * 64
            ),
        ),
        "attributes": {"queue": "outage", "ivr_path": "1-3-2", "长": "值" * 100},
    }
    fields.update(overrides)
    return Touchpoint(**fields)
