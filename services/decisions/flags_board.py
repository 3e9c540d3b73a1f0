"""The sensitive customers: a read model of whose flag stands, from the decisions' log.

The API had only ``/v1/customers/{id}/risk``: a supervisor's dashboard would have to ask
every customer. Like :class:`~services.decisions.board.AlertBoard`, this board folds the
application's notification log, reading only what is newer than its last look. It does not
re-implement what "sensitive" means: a notification that can change a flag (opened, flag
changed or cleared, decision withdrawn or reinstated) marks its customer *dirty*, and the
next refresh reads that customer's :class:`~services.decisions.domain.CustomerRisk` once and
asks the aggregate (:attr:`CustomerRisk.sensitive`). Cost: one aggregate read per customer
whose flag may have changed, once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventsourcing.utils import get_topic

from services.decisions.domain import CustomerRisk
from services.notifications import notifications_from

if TYPE_CHECKING:
    from services.decisions.application import DecisionsApp

__all__ = ["FlagBoard", "SensitiveRow", "sensitive_row"]

_OPENED = get_topic(CustomerRisk.Opened)  # type: ignore[attr-defined]
#: CustomerRisk events that may change whether the flag stands (alert links and suppressed
#: warnings do not).
_FLAG_TOPICS = frozenset(
    get_topic(getattr(CustomerRisk, name))
    for name in ("Opened", "FlagChanged", "FlagCleared", "DecisionWithdrawn", "DecisionReinstated")
)


@dataclass(frozen=True, slots=True)
class SensitiveRow:
    """A customer flagged sensitive now, and the flag change that stands (event time)."""

    customer_id: str
    action: str
    rule_id: str
    service_type: str
    at: int
    summary: str
    alerts: int


def sensitive_row(risk: CustomerRisk) -> SensitiveRow | None:
    """The row of ``risk``'s customer when the flag stands, else ``None``."""
    if not risk.sensitive:
        return None
    standing = [c for c in risk.changes if not c.get("withdrawn")][-1]
    return SensitiveRow(
        customer_id=risk.customer_id,
        action=str(standing["action"]),
        rule_id=str(standing["rule_id"]),
        service_type=str(standing["service_type"]),
        at=int(standing["at"]),
        summary=str(standing["summary"]),
        alerts=len(risk.alert_ids),
    )


class FlagBoard:
    """Customers whose sensitive flag stands, folded from the notification log."""

    def __init__(self, app: DecisionsApp) -> None:
        self._app = app
        self._customers: dict[str, str] = {}  # risk aggregate id → customer id
        self._rows: dict[str, SensitiveRow] = {}
        self._next = 1
        self._lock = threading.Lock()

    def refresh(self) -> int:
        """Read the notifications recorded since the last refresh; return how many customers
        were looked at again."""
        with self._lock:
            dirty: set[str] = set()
            for notification in notifications_from(self._app.recorder, self._next):
                self._note(notification, dirty)
                self._next = notification.id + 1
            for customer_id in dirty:
                self._reread(customer_id)
            return len(dirty)

    def _note(self, notification: Any, dirty: set[str]) -> None:
        if notification.topic not in _FLAG_TOPICS:
            return
        key = str(notification.originator_id)
        if notification.topic == _OPENED:
            event: Any = self._app.mapper.to_domain_event(notification)
            self._customers[key] = event.customer_id
        customer_id = self._customers.get(key)
        if customer_id is not None:
            dirty.add(customer_id)

    def _reread(self, customer_id: str) -> None:
        risk = self._app.risk_of(customer_id)
        row = None if risk is None else sensitive_row(risk)
        if row is None:
            self._rows.pop(customer_id, None)
        else:
            self._rows[customer_id] = row

    def rows(self) -> list[SensitiveRow]:
        """The sensitive customers, the most recent standing change first."""
        self.refresh()
        return sorted(self._rows.values(), key=lambda row: (row.at, row.customer_id), reverse=True)
