"""The audit app's listings, folded from its notification log.

eventsourcing stores aggregates, not queries: "every read of customer C" and "every
evaluation of episode E" are answered by folding the notification log into small rows (the
same approach as the alert board). The index remembers the last notification it read and only
reads what is newer, so a long-running process pays for each notification once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventsourcing.utils import get_topic

from services.audit.domain import Evaluation, Read
from services.notifications import notifications_from

if TYPE_CHECKING:
    from eventsourcing.application import Application

__all__ = ["AuditIndex", "EvaluationRow", "ReadRow"]

_EVALUATED = get_topic(Evaluation.Evaluated)  # type: ignore[attr-defined]
_RECORDED = get_topic(Read.Recorded)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class ReadRow:
    """One entry of the audit trail of reads."""

    read_id: str
    by: str
    what: str
    customer_id: str | None
    subject: dict[str, str]
    when: str
    #: Position in the notification log: orders reads recorded within the same second.
    position: int


@dataclass(frozen=True, slots=True)
class EvaluationRow:
    """Where to find an evaluation (its current state is the aggregate's)."""

    evaluation_id: str
    episode_id: str
    customer_id: str
    when: str
    position: int


class AuditIndex:
    """Evaluation and read rows folded from the notification log (see the module doc)."""

    def __init__(self, app: Application[Any]) -> None:
        self._app = app
        self._reads: list[ReadRow] = []
        self._evaluations: list[EvaluationRow] = []
        self._next = 1
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Fold every notification recorded since the last refresh."""
        with self._lock:
            for notification in notifications_from(self._app.recorder, self._next):
                self._fold(notification)
                self._next = notification.id + 1

    def _fold(self, notification: Any) -> None:
        if notification.topic not in {_EVALUATED, _RECORDED}:
            return
        event: Any = self._app.mapper.to_domain_event(notification)
        key = str(event.originator_id)
        if notification.topic == _RECORDED:
            self._reads.append(
                ReadRow(
                    read_id=key,
                    by=event.by,
                    what=event.what,
                    customer_id=event.customer_id,
                    subject=dict(event.subject),
                    when=event.when,
                    position=notification.id,
                )
            )
            return
        self._evaluations.append(
            EvaluationRow(key, event.episode_id, event.customer_id, event.when, notification.id)
        )

    def reads(
        self,
        customer_id: str | None = None,
        by: str | None = None,
        what: str | None = None,
        limit: int | None = None,
    ) -> list[ReadRow]:
        """Reads, newest first, filtered."""
        self.refresh()
        found = [
            row
            for row in self._reads
            if (customer_id is None or row.customer_id == customer_id)
            and (by is None or row.by == by)
            and (what is None or row.what == what)
        ]
        found.sort(key=lambda row: (row.when, row.position), reverse=True)
        return found if limit is None else found[:limit]

    def evaluations(
        self, customer_id: str | None = None, episode_id: str | None = None
    ) -> list[EvaluationRow]:
        """Evaluations, newest first, filtered."""
        self.refresh()
        found = [
            row
            for row in self._evaluations
            if (customer_id is None or row.customer_id == customer_id)
            and (episode_id is None or row.episode_id == episode_id)
        ]
        found.sort(key=lambda row: (row.when, row.position), reverse=True)
        return found

    def evaluation_ids(self) -> list[str]:
        self.refresh()
        return [row.evaluation_id for row in self._evaluations]
