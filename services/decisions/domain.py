"""The decision aggregates: what the risk engine decided and what people did about it.

Pure domain (eventsourcing's ``Aggregate`` only; no persistence, no I/O). Two aggregates:

* :class:`Alert`, one per alert decision, id = the decision id: raised → acknowledged →
  resolved or dismissed, each step with who and when; ``withdrawn`` by the engine when a late
  arrival shows the alert no longer holds (a resolution that happened in time but was
  reported late).
* :class:`CustomerRisk`, one per customer, id = uuid5 of the customer id: the *sensitive* flag
  (raised, renewed, expired by the rules; cleared by a supervisor with a reason), the alerts
  raised for the customer and every decision applied to it, so the engine can tell which of
  its decisions are already recorded.

Times: ``at`` is event time (µs) as decided by the rules; ``when`` of a human action is the
moment the person acted (an ISO timestamp the application passes in), which is real time by
nature and never feeds back into the rules.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from projections.risk.decisions import Decision

__all__ = [
    "ALERT_CHANGES",
    "ALERT_STATUSES",
    "Alert",
    "CustomerRisk",
    "InvalidTransition",
    "risk_id",
]

_RISK_NAMESPACE = UUID("5e1f7ace-0003-4c1d-9a3b-7d2e6f4a8b10")

#: Every status an alert can be in; the order is the order of the workflow.
ALERT_STATUSES = ("open", "acknowledged", "resolved", "dismissed", "withdrawn")
_LIVE = frozenset({"open", "acknowledged"})


class InvalidTransition(ValueError):
    """An alert asked to move where its workflow does not go (resolving a dismissed alert)."""


def risk_id(customer_id: str) -> UUID:
    """The id of a customer's :class:`CustomerRisk` aggregate."""
    return uuid5(_RISK_NAMESPACE, customer_id)


class Alert(Aggregate):
    """One alert for supervisors (or agents), with its provenance and its workflow."""

    @staticmethod
    def create_id(decision_id: str, **_: Any) -> UUID:
        return UUID(decision_id)

    @event("Raised")
    def __init__(
        self,
        decision_id: str,
        rule_id: str,
        rule_version: int,
        customer_id: str,
        service_type: str,
        severity: str,
        at: int,
        due: int,
        triggers: list[str],
        summary: str,
        reasons: list[str],
        episodes: list[str],
    ) -> None:
        self.decision_id = decision_id
        self.rule_id = rule_id
        self.rule_version = rule_version
        self.customer_id = customer_id
        self.service_type = service_type
        self.severity = severity
        self.at = at
        self.due = due
        self.triggers = list(triggers)
        self.summary = summary
        self.reasons = list(reasons)
        self.episodes = list(episodes)
        self.status = "open"
        self.history: list[dict[str, str]] = []

    @classmethod
    def from_decision(cls, decision: Decision) -> Alert:
        return cls(
            decision_id=decision.decision_id,
            rule_id=decision.rule_id,
            rule_version=decision.rule_version,
            customer_id=decision.customer_id,
            service_type=decision.service_type,
            severity=decision.severity,
            at=decision.at,
            due=decision.due,
            triggers=list(decision.triggers),
            summary=decision.summary,
            reasons=list(decision.reasons),
            episodes=list(decision.episodes),
        )

    def _require(self, action: str, allowed: frozenset[str]) -> None:
        if self.status not in allowed:
            raise InvalidTransition(
                f"alert {self.id} is {self.status}: it cannot be {action} "
                f"(only an alert that is {' or '.join(s for s in ALERT_STATUSES if s in allowed)} "
                "can)"
            )

    def acknowledge(self, by: str, when: str) -> None:
        self._require("acknowledged", frozenset({"open"}))
        self._acknowledged(by=by, when=when)

    @event("Acknowledged")
    def _acknowledged(self, by: str, when: str) -> None:
        self.status = "acknowledged"
        self.history.append({"status": "acknowledged", "by": by, "when": when})

    def resolve(self, by: str, note: str, when: str) -> None:
        self._require("resolved", _LIVE)
        self._resolved(by=by, note=note, when=when)

    @event("Resolved")
    def _resolved(self, by: str, note: str, when: str) -> None:
        self.status = "resolved"
        self.history.append({"status": "resolved", "by": by, "when": when, "note": note})

    def dismiss(self, by: str, reason: str, when: str) -> None:
        self._require("dismissed", _LIVE)
        self._dismissed(by=by, reason=reason, when=when)

    @event("Dismissed")
    def _dismissed(self, by: str, reason: str, when: str) -> None:
        self.status = "dismissed"
        self.history.append({"status": "dismissed", "by": by, "when": when, "reason": reason})

    def withdraw(self, reason: str) -> bool:
        """The engine takes the alert back; a closed alert keeps its outcome (returns False)."""
        if self.status not in _LIVE:
            return False
        self._withdrawn(reason=reason)
        return True

    @event("Withdrawn")
    def _withdrawn(self, reason: str) -> None:
        self.status = "withdrawn"
        self.history.append({"status": "withdrawn", "by": "risk engine", "reason": reason})

    def reinstate(self, reason: str) -> bool:
        """The engine finds the alert holds again (the history changed back); only a withdrawn
        alert is reinstated, and it opens again (returns False otherwise)."""
        if self.status != "withdrawn":
            return False
        self._reinstated(reason=reason)
        return True

    @event("Reinstated")
    def _reinstated(self, reason: str) -> None:
        self.status = "open"
        self.history.append({"status": "open", "by": "risk engine", "reason": reason})


class CustomerRisk(Aggregate):
    """A customer's flag and the decisions the engine applied to them."""

    @staticmethod
    def create_id(customer_id: str) -> UUID:
        return risk_id(customer_id)

    @event("Opened")
    def __init__(self, customer_id: str) -> None:
        self.customer_id = customer_id
        #: Flag changes in the order they were applied, withdrawn ones included.
        self.changes: list[dict[str, Any]] = []
        self.alert_ids: list[str] = []
        #: Decision id → what became of it ("applied", "suppressed", "withdrawn").
        self.decisions: dict[str, str] = {}

    @property
    def active_decisions(self) -> set[str]:
        """Decision ids applied and not withdrawn: what the engine must not apply again."""
        return {key for key, state in self.decisions.items() if state != "withdrawn"}

    @property
    def sensitive(self) -> bool:
        """Whether the customer is flagged sensitive now: the last flag change that still
        stands is a raise or a renewal (an expiry or a supervisor's clear ends it)."""
        standing = [c for c in self.changes if not c.get("withdrawn")]
        return bool(standing) and standing[-1]["action"] in {"flag_raised", "flag_renewed"}

    @property
    def cleared(self) -> bool:
        standing = [c for c in self.changes if not c.get("withdrawn")]
        return bool(standing) and standing[-1]["action"] == "flag_cleared"

    def apply_flag(self, decision: Decision) -> None:
        self._flag_changed(
            decision_id=decision.decision_id,
            action=decision.action,
            rule_id=decision.rule_id,
            rule_version=decision.rule_version,
            at=decision.at,
            service_type=decision.service_type,
            triggers=list(decision.triggers),
            summary=decision.summary,
        )

    @event("FlagChanged")
    def _flag_changed(
        self,
        decision_id: str,
        action: str,
        rule_id: str,
        rule_version: int,
        at: int,
        service_type: str,
        triggers: list[str],
        summary: str,
    ) -> None:
        self.changes.append(
            {
                "decision_id": decision_id,
                "action": action,
                "rule_id": rule_id,
                "rule_version": rule_version,
                "at": at,
                "service_type": service_type,
                "triggers": list(triggers),
                "summary": summary,
            }
        )
        self.decisions[decision_id] = "applied"

    def link_alert(self, decision: Decision) -> None:
        self._alert_linked(alert_id=decision.decision_id, rule_id=decision.rule_id)

    @event("AlertLinked")
    def _alert_linked(self, alert_id: str, rule_id: str) -> None:
        self.alert_ids.append(alert_id)
        self.decisions[alert_id] = "applied"

    def suppress(self, decision: Decision, why: str) -> None:
        self._suppressed(decision_id=decision.decision_id, rule_id=decision.rule_id, why=why)

    @event("Suppressed")
    def _suppressed(self, decision_id: str, rule_id: str, why: str) -> None:
        self.decisions[decision_id] = "suppressed"

    def withdraw(self, decision_id: str, reason: str) -> bool:
        if self.decisions.get(decision_id) in {None, "withdrawn"}:
            return False
        self._decision_withdrawn(decision_id=decision_id, reason=reason)
        return True

    @event("DecisionWithdrawn")
    def _decision_withdrawn(self, decision_id: str, reason: str) -> None:
        self.decisions[decision_id] = "withdrawn"
        for change in self.changes:
            if change["decision_id"] == decision_id:
                change["withdrawn"] = True

    def reinstate(self, decision_id: str, reason: str) -> bool:
        if self.decisions.get(decision_id) != "withdrawn":
            return False
        self._decision_reinstated(decision_id=decision_id, reason=reason)
        return True

    @event("DecisionReinstated")
    def _decision_reinstated(self, decision_id: str, reason: str) -> None:
        self.decisions[decision_id] = "applied"
        for change in self.changes:
            if change["decision_id"] == decision_id:
                change.pop("withdrawn", None)

    def clear(self, by: str, reason: str, when: str) -> None:
        if not self.sensitive:
            raise InvalidTransition(
                f"customer {self.customer_id} is not flagged sensitive: there is nothing to clear"
            )
        self._cleared(by=by, reason=reason, when=when)

    @event("FlagCleared")
    def _cleared(self, by: str, reason: str, when: str) -> None:
        self.changes.append(
            {"decision_id": "", "action": "flag_cleared", "by": by, "reason": reason, "when": when}
        )


#: Every event of an alert's life and the change it is to a subscriber (the ``change`` of an
#: alerts-topic message); the alert's status after it is the change, except that a raised or
#: reinstated alert is ``open``.
ALERT_CHANGES: tuple[tuple[type[Any], str], ...] = (
    (Alert.Raised, "raised"),  # type: ignore[attr-defined]
    (Alert.Acknowledged, "acknowledged"),  # type: ignore[attr-defined]
    (Alert.Resolved, "resolved"),  # type: ignore[attr-defined]
    (Alert.Dismissed, "dismissed"),  # type: ignore[attr-defined]
    (Alert.Withdrawn, "withdrawn"),  # type: ignore[attr-defined]
    (Alert.Reinstated, "reinstated"),  # type: ignore[attr-defined]
)
