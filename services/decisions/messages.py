"""The published form of decisions: Avro records on ``servicetrace.alerts.v1`` and
``servicetrace.flags.v1`` (``schemas/alert.v1.avsc``, ``schemas/flag.v1.avsc``), in the
Confluent frame, keyed by customer id.

One message per aggregate event that changes something a subscriber cares about. Internal
bookkeeping (a risk record opened, an alert linked to its customer, a suppressed warning) is
not published. Message ids are uuid5 of the aggregate id and the event's version: the same
stored event always yields the same message, so a repeat is recognisable downstream.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import singledispatch
from typing import Any
from uuid import UUID, uuid5

from events.log import Entry
from schemas.registry import FileSchemaRegistry
from schemas.serde import AvroSerde
from services.decisions.domain import ALERT_CHANGES, Alert, CustomerRisk

__all__ = [
    "ALERTS_TOPIC",
    "FLAGS_TOPIC",
    "Message",
    "MessageSerdes",
    "message_id",
    "to_message",
]

ALERTS_TOPIC = "servicetrace.alerts.v1"
FLAGS_TOPIC = "servicetrace.flags.v1"
_MESSAGE_NAMESPACE = UUID("5e1f7ace-0004-4c1d-9a3b-7d2e6f4a8b10")

#: Where a message goes and what it says: (topic, customer id, Avro record).
Message = tuple[str, str, dict[str, Any]]
#: Loads an aggregate as it stood at a version.
Loader = Callable[[UUID, int], Any]


def message_id(originator_id: UUID, version: int) -> str:
    return str(uuid5(_MESSAGE_NAMESPACE, f"{originator_id}/{version}"))


class MessageSerdes:
    """Encoders for both topics, from the registry shipped in ``schemas/``."""

    def __init__(self, registry: FileSchemaRegistry | None = None) -> None:
        registry = registry or FileSchemaRegistry.load()
        self.alerts = AvroSerde(registry, f"{ALERTS_TOPIC}-value")
        self.flags = AvroSerde(registry, f"{FLAGS_TOPIC}-value")

    def entry(self, message: Message) -> Entry:
        topic, key, record = message
        serde = self.alerts if topic == ALERTS_TOPIC else self.flags
        return Entry(record["message_id"], key, serde.encode(record))

    def decode(self, topic: str, data: bytes) -> dict[str, Any]:
        return (self.alerts if topic == ALERTS_TOPIC else self.flags).decode(data)


def to_message(event: Any, load: Loader) -> Message | None:
    """The message an aggregate event publishes, or ``None`` (internal bookkeeping)."""
    return _message(event, load)


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


@singledispatch
def _message(event: Any, load: Loader) -> Message | None:
    return None


def _alert_message(event: Any, load: Loader, change: str) -> Message:
    alert: Alert = load(event.originator_id, event.originator_version)
    actor = "risk engine" if change in {"withdrawn", "reinstated"} else getattr(event, "by", None)
    note = getattr(event, "note", None) or getattr(event, "reason", None)
    record = {
        "message_id": message_id(event.originator_id, event.originator_version),
        "alert_id": str(alert.id),
        "change": change,
        "status": alert.status,
        "customer_id": alert.customer_id,
        "rule_id": alert.rule_id,
        "rule_version": alert.rule_version,
        "severity": alert.severity,
        "service_type": alert.service_type,
        "at": alert.at,
        "recorded_at": _micros(event.timestamp),
        "triggers": list(alert.triggers),
        "summary": alert.summary,
        "reasons": list(alert.reasons),
        "episodes": list(alert.episodes),
        "actor": actor if change != "raised" else None,
        "note": note,
    }
    return ALERTS_TOPIC, alert.customer_id, record


def _register_alert(event_class: Any, change: str) -> None:
    def publish(event: Any, load: Loader) -> Message:
        return _alert_message(event, load, change)

    _message.register(event_class, publish)


for _class, _change in ALERT_CHANGES:
    _register_alert(_class, _change)


def _flag_record(event: Any, risk: CustomerRisk, change: str, **fields: Any) -> Message:
    record = {
        "message_id": message_id(event.originator_id, event.originator_version),
        "customer_id": risk.customer_id,
        "flag": "sensitive",
        "change": change,
        "flagged": risk.sensitive,
        "decision_id": None,
        "rule_id": None,
        "rule_version": None,
        "service_type": None,
        "at": None,
        "recorded_at": _micros(event.timestamp),
        "triggers": [],
        "summary": "",
        "actor": None,
        "reason": None,
        **fields,
    }
    return FLAGS_TOPIC, risk.customer_id, record


@_message.register(CustomerRisk.FlagChanged)  # type: ignore[attr-defined]
def _flag_changed(event: Any, load: Loader) -> Message:
    risk: CustomerRisk = load(event.originator_id, event.originator_version)
    return _flag_record(
        event,
        risk,
        event.action.removeprefix("flag_"),
        decision_id=event.decision_id,
        rule_id=event.rule_id,
        rule_version=event.rule_version,
        service_type=event.service_type,
        at=event.at,
        triggers=list(event.triggers),
        summary=event.summary,
    )


@_message.register(CustomerRisk.FlagCleared)  # type: ignore[attr-defined]
def _flag_cleared(event: Any, load: Loader) -> Message:
    risk: CustomerRisk = load(event.originator_id, event.originator_version)
    return _flag_record(event, risk, "cleared", actor=event.by, reason=event.reason)


@_message.register(CustomerRisk.DecisionWithdrawn)  # type: ignore[attr-defined]
def _withdrawn(event: Any, load: Loader) -> Message | None:
    risk: CustomerRisk = load(event.originator_id, event.originator_version)
    if not any(change["decision_id"] == event.decision_id for change in risk.changes):
        # An alert's own Withdrawn event is published on the alerts topic; a suppressed
        # warning was never published, so its withdrawal is bookkeeping too.
        return None
    return _flag_record(
        event, risk, "withdrawn", decision_id=event.decision_id, reason=event.reason
    )


@_message.register(CustomerRisk.DecisionReinstated)  # type: ignore[attr-defined]
def _reinstated(event: Any, load: Loader) -> Message | None:
    risk: CustomerRisk = load(event.originator_id, event.originator_version)
    if not any(change["decision_id"] == event.decision_id for change in risk.changes):
        return None  # an alert's reinstatement is published on the alerts topic
    return _flag_record(
        event, risk, "reinstated", decision_id=event.decision_id, reason=event.reason
    )
