"""The decisions application: applies the risk engine's decisions and people's actions.

An eventsourcing ``Application`` over :mod:`services.decisions.domain`. Everything it records
lands, in one transaction per call, in the store's notification log, which is also the
**outbox**: :mod:`services.decisions.relay` publishes it to the alerts and flags topics.

Applying decisions is idempotent by decision id (a re-delivered batch, a restart, a rebuild
change nothing and publish nothing). Agent warnings for a customer whose flag a supervisor
cleared are recorded as *suppressed*, so no one is warned about a flag that was lifted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from projections.risk.decisions import Decision
from services.decisions.board import AlertBoard, AlertRow
from services.decisions.domain import Alert, CustomerRisk, risk_id
from services.decisions.stores import decisions_env, prepare_store
from services.moments import wall_clock

__all__ = ["AlertNotFound", "DecisionsApp"]


class AlertNotFound(KeyError):
    """No alert has that id (or no single alert starts with that prefix)."""

    def __str__(self) -> str:
        return str(self.args[0])


#: Why the engine reinstates a withdrawn decision.
REINSTATED = "holds again: a touchpoint that arrived late changed the history back"


class DecisionsApp(Application[UUID]):
    """Alerts and customer risk flags, event-sourced; see the module doc."""

    name = "servicetrace-decisions"

    def __init__(self, url: str = "memory:", clock: Callable[[], str] = wall_clock) -> None:
        env = decisions_env(url)
        prepare_store(env)
        super().__init__(env=env)
        self._clock = clock
        self.board = AlertBoard(self)

    # --- what the risk engine does ---------------------------------------------------------

    def record(self, decisions: Sequence[Decision]) -> list[Decision]:
        """Apply the decisions not applied before (one transaction); return those applied."""
        applied: list[Decision] = []
        changed: list[Any] = []
        for customer_id, theirs in _by_customer(decisions).items():
            risk = self.risk_of(customer_id) or CustomerRisk(customer_id)
            before = len(applied)
            for decision in sorted(theirs, key=lambda d: (d.at, d.decision_id)):
                state = risk.decisions.get(decision.decision_id)
                if state == "withdrawn":
                    applied.append(decision)
                    changed.extend(self._reinstate(risk, decision.decision_id))
                    continue
                if state is not None:
                    continue
                applied.append(decision)
                if not decision.is_alert:
                    risk.apply_flag(decision)
                elif decision.rule_id == "agent_warning" and risk.cleared:
                    risk.suppress(decision, "the flag was cleared by a supervisor")
                else:
                    risk.link_alert(decision)
                    changed.append(Alert.from_decision(decision))
            if len(applied) > before:
                changed.append(risk)
        if changed:
            self.save(*changed)
        return applied

    def _reinstate(self, risk: CustomerRisk, decision_id: str) -> list[Any]:
        """A withdrawn decision holds again (history changed back): reinstate it, and its
        alert when it had one."""
        risk.reinstate(decision_id, REINSTATED)
        if decision_id not in risk.alert_ids:
            return []
        alert: Alert = self.repository.get(UUID(decision_id))
        return [alert] if alert.reinstate(REINSTATED) else []

    def withdraw(self, decisions: Iterable[tuple[str, str]], reason: str) -> int:
        """Take back decisions ``(customer_id, decision_id)`` that no longer hold."""
        changed: list[Any] = []
        count = 0
        for customer_id, ids in _group(decisions).items():
            risk = self.risk_of(customer_id)
            if risk is None:
                continue
            for decision_id in ids:
                if not risk.withdraw(decision_id, reason):
                    continue
                count += 1
                if decision_id in risk.alert_ids:
                    alert: Alert = self.repository.get(UUID(decision_id))
                    if alert.withdraw(reason):
                        changed.append(alert)
            changed.append(risk)
        if changed:
            self.save(*changed)
        return count

    def decision_ids(self, customers: Iterable[str]) -> dict[str, set[str]]:
        """The decisions applied (and not withdrawn) to each customer that has any."""
        found = {}
        for customer_id in customers:
            risk = self.risk_of(customer_id)
            if risk is not None:
                found[customer_id] = risk.active_decisions
        return found

    # --- what people do ---------------------------------------------------------------------

    def acknowledge(self, alert_id: str, by: str) -> Alert:
        alert = self.alert(alert_id)
        alert.acknowledge(by=by, when=self._clock())
        self.save(alert)
        return alert

    def resolve(self, alert_id: str, by: str, note: str) -> Alert:
        alert = self.alert(alert_id)
        alert.resolve(by=by, note=note, when=self._clock())
        self.save(alert)
        return alert

    def dismiss(self, alert_id: str, by: str, reason: str) -> Alert:
        alert = self.alert(alert_id)
        alert.dismiss(by=by, reason=reason, when=self._clock())
        self.save(alert)
        return alert

    def clear_flag(self, customer_id: str, by: str, reason: str) -> CustomerRisk:
        risk = self.risk_of(customer_id)
        if risk is None:
            raise AlertNotFound(f"customer {customer_id} has no risk record")
        risk.clear(by=by, reason=reason, when=self._clock())
        self.save(risk)
        return risk

    # --- reads ------------------------------------------------------------------------------

    def alert(self, alert_id: str) -> Alert:
        """The alert with this id, or with this unique id prefix (as the CLI prints them)."""
        key = self.board.resolve_id(alert_id)
        try:
            alert: object = self.repository.get(UUID(key))
        except (AggregateNotFoundError, ValueError):
            raise AlertNotFound(f"no alert {alert_id}") from None
        if not isinstance(alert, Alert):  # another aggregate's id (a customer's risk record)
            raise AlertNotFound(f"no alert {alert_id}")
        return alert

    def risk_of(self, customer_id: str) -> CustomerRisk | None:
        try:
            risk: CustomerRisk = self.repository.get(risk_id(customer_id))
        except AggregateNotFoundError:
            return None
        return risk

    def alerts(self, status: str | None = None, customer_id: str | None = None) -> list[AlertRow]:
        return self.board.rows(status=status, customer_id=customer_id)


def _by_customer(decisions: Iterable[Decision]) -> dict[str, list[Decision]]:
    grouped: dict[str, list[Decision]] = {}
    for decision in decisions:
        grouped.setdefault(decision.customer_id, []).append(decision)
    return grouped


def _group(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for customer_id, decision_id in pairs:
        grouped.setdefault(customer_id, []).append(decision_id)
    return grouped
