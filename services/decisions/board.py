"""The supervisors' alert board: a read model folded from the decisions' notification log.

eventsourcing stores aggregates, not queries; "every open alert" is answered by folding the
application's notification log (the same sequence the relay publishes) into one row per
alert. The board keeps the last notification it read and only reads what is newer, so a
long-running process (``alerts --follow``, the API) pays for each notification once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.utils import get_topic

from services.decisions.domain import ALERT_CHANGES
from services.notifications import notifications_from

if TYPE_CHECKING:
    from services.decisions.application import DecisionsApp

__all__ = ["AlertBoard", "AlertRow"]

#: Alert event topic → the change it is.
_ALERT_TOPICS = {get_topic(cls): change for cls, change in ALERT_CHANGES}


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One alert as a supervisor lists it."""

    alert_id: str
    customer_id: str
    rule_id: str
    rule_version: int
    severity: str
    service_type: str
    at: int
    summary: str
    status: str
    triggers: int
    raised_when: str
    last_by: str | None = None
    last_when: str | None = None


class AlertBoard:
    """Alert rows folded from the notification log (see the module doc)."""

    def __init__(self, app: DecisionsApp) -> None:
        self._app = app
        self._rows: dict[str, AlertRow] = {}
        self._next = 1
        self._lock = threading.Lock()

    def refresh(self) -> int:
        """Fold every notification recorded since the last refresh; return how many alerts
        changed."""
        changed = 0
        with self._lock:
            for notification in notifications_from(self._app.recorder, self._next):
                changed += self._fold(notification)
                self._next = notification.id + 1
        return changed

    def _fold(self, notification: Any) -> int:
        change = _ALERT_TOPICS.get(notification.topic)
        if change is None:
            return 0
        event: Any = self._app.mapper.to_domain_event(notification)
        key = str(event.originator_id)
        when = event.timestamp.isoformat(timespec="seconds")
        if change == "raised":
            self._rows[key] = AlertRow(
                alert_id=key,
                customer_id=event.customer_id,
                rule_id=event.rule_id,
                rule_version=event.rule_version,
                severity=event.severity,
                service_type=event.service_type,
                at=event.at,
                summary=event.summary,
                status="open",
                triggers=len(event.triggers),
                raised_when=when,
            )
        elif key in self._rows:
            by = getattr(event, "by", "risk engine")
            status = "open" if change == "reinstated" else change
            self._rows[key] = replace(self._rows[key], status=status, last_by=by, last_when=when)
        return 1

    def rows(self, status: str | None = None, customer_id: str | None = None) -> list[AlertRow]:
        """Alerts, newest event time first, filtered by status and customer."""
        self.refresh()
        rows = [
            row
            for row in self._rows.values()
            if (status is None or row.status == status)
            and (customer_id is None or row.customer_id == customer_id)
        ]
        rows.sort(key=lambda row: (row.at, row.alert_id), reverse=True)
        return rows

    def resolve_id(self, text: str) -> str:
        """The full id of the alert ``text`` names (a full id, or a unique prefix of one)."""
        try:
            return str(UUID(text))
        except ValueError:
            pass
        self.refresh()
        # An empty prefix names no alert (not "the only alert there is").
        matches = [key for key in self._rows if text and key.startswith(text.lower())]
        if len(matches) == 1:
            return matches[0]
        from services.decisions.application import AlertNotFound

        if not matches:
            raise AlertNotFound(f"no alert id starts with {text!r}")
        raise AlertNotFound(f"{len(matches)} alerts start with {text!r}: give more of the id")
