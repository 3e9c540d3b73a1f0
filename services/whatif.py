"""The what-if runner: candidate rules over every customer's history, against production.

Reads, never writes: the journey view (one query lists the customers with their touchpoint
counts, then their facts are read a chunk of customers at a time, so at most ``max_facts``
touchpoints are in memory), and the production decision store's notification log, folded once
into the decisions that stand (:func:`read_production`). The candidate's decisions live only in
memory (:mod:`replay.whatif` pairs and counts them): nothing reaches the decision store, the
positions table, the alerts and flags logs or Kafka.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from clickhouse_connect.driver.exceptions import ClickHouseError
from eventsourcing.utils import get_topic

from projections.facts import HOUR_US, Fact, in_event_time_order
from projections.policy import ProjectionConfig
from projections.positions import ClickHousePositionStore
from projections.risk import RuleSet
from projections.views.journey_view import JourneyView
from replay.whatif import (
    ActionDiff,
    Move,
    Occurrence,
    RuleDiff,
    WhatIfBuilder,
    WhatIfDiff,
    Window,
    candidate_decisions,
    resolve,
)
from services.decisions.application import DecisionsApp
from services.decisions.domain import ALERT_CHANGES, Alert, CustomerRisk
from services.decisions.views import iso_micros
from services.notifications import notifications_from

__all__ = [
    "ProductionDecisions",
    "customer_chunks",
    "diff_json",
    "read_production",
    "risk_backlog",
    "run_whatif",
]

# --- what production holds ------------------------------------------------------------------


@dataclass(slots=True)
class ProductionDecisions:
    """The decisions that stand in the production store, by customer.

    ``suppressed`` holds the agent warnings recorded as suppressed: the store keeps only their
    id and rule, so the runner describes them by re-deciding with the production rules.
    """

    by_customer: dict[str, list[Occurrence]] = field(default_factory=dict)
    suppressed: dict[str, dict[str, str]] = field(default_factory=dict)

    def customers(self) -> set[str]:
        return {*self.by_customer, *self.suppressed}

    def take(self, customer_id: str) -> tuple[list[Occurrence], dict[str, str]]:
        """A customer's decisions and suppressed ids (forgotten here: each is read once)."""
        return self.by_customer.pop(customer_id, []), self.suppressed.pop(customer_id, {})


@dataclass(slots=True)
class _Ledger:
    """The fold of the notification log: the same state ``CustomerRisk.decisions`` keeps, for
    every customer at once, and the details of each alert and flag change."""

    customers: dict[UUID, str] = field(default_factory=dict)
    states: dict[str, tuple[UUID, str]] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)
    flags: dict[str, Any] = field(default_factory=dict)
    alerts: dict[str, Occurrence] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)

    def decisions(self) -> ProductionDecisions:
        found = ProductionDecisions()
        for decision_id, (risk, state) in self.states.items():
            if state == "withdrawn":
                continue
            customer_id = self.customers[risk]
            described = self._described(decision_id, customer_id)
            if described is not None:
                found.by_customer.setdefault(customer_id, []).append(described)
            elif state == "suppressed":
                theirs = found.suppressed.setdefault(customer_id, {})
                theirs[decision_id] = self.rules[decision_id]
        return found

    def _described(self, decision_id: str, customer_id: str) -> Occurrence | None:
        if decision_id in self.alerts:
            alert = self.alerts[decision_id]
            status = self.statuses.get(decision_id, alert.status)
            return replace(alert, status=status)
        event = self.flags.get(decision_id)
        if event is None:
            return None
        return Occurrence(
            rule_id=event.rule_id,
            action=event.action,
            customer_id=customer_id,
            service_type=event.service_type,
            at=event.at,
            rule_version=event.rule_version,
            decision_id=decision_id,
            triggers=tuple(event.triggers),
            status="applied",
        )


def _opened(ledger: _Ledger, event: Any) -> None:
    ledger.customers[event.originator_id] = event.customer_id


def _flag_changed(ledger: _Ledger, event: Any) -> None:
    ledger.states[event.decision_id] = (event.originator_id, "applied")
    ledger.flags[event.decision_id] = event


def _alert_linked(ledger: _Ledger, event: Any) -> None:
    ledger.states[event.alert_id] = (event.originator_id, "applied")


def _suppressed(ledger: _Ledger, event: Any) -> None:
    ledger.states[event.decision_id] = (event.originator_id, "suppressed")
    ledger.rules[event.decision_id] = event.rule_id


def _withdrawn(ledger: _Ledger, event: Any) -> None:
    ledger.states[event.decision_id] = (event.originator_id, "withdrawn")


def _reinstated(ledger: _Ledger, event: Any) -> None:
    ledger.states[event.decision_id] = (event.originator_id, "applied")


def _raised(ledger: _Ledger, event: Any) -> None:
    ledger.alerts[str(event.originator_id)] = Occurrence(
        rule_id=event.rule_id,
        action="alert",
        customer_id=event.customer_id,
        service_type=event.service_type,
        at=event.at,
        rule_version=event.rule_version,
        decision_id=event.decision_id,
        triggers=tuple(event.triggers),
        status="open",
    )


def _alert_status(status: str) -> Callable[[_Ledger, Any], None]:
    def fold(ledger: _Ledger, event: Any) -> None:
        ledger.statuses[str(event.originator_id)] = status

    return fold


#: Notification topic → how it changes the ledger; other topics (a supervisor's clear) do not.
_FOLDS: dict[str, Callable[[_Ledger, Any], None]] = {
    get_topic(CustomerRisk.Opened): _opened,  # type: ignore[attr-defined]
    get_topic(CustomerRisk.FlagChanged): _flag_changed,  # type: ignore[attr-defined]
    get_topic(CustomerRisk.AlertLinked): _alert_linked,  # type: ignore[attr-defined]
    get_topic(CustomerRisk.Suppressed): _suppressed,  # type: ignore[attr-defined]
    get_topic(CustomerRisk.DecisionWithdrawn): _withdrawn,  # type: ignore[attr-defined]
    get_topic(CustomerRisk.DecisionReinstated): _reinstated,  # type: ignore[attr-defined]
    get_topic(Alert.Raised): _raised,  # type: ignore[attr-defined]
    **{
        get_topic(cls): _alert_status("open" if change == "reinstated" else change)
        for cls, change in ALERT_CHANGES
        if change != "raised"
    },
}


def read_production(app: DecisionsApp) -> ProductionDecisions:
    """Every decision applied and not withdrawn (suppressed ones included), folded from the
    store's notification log in pages: one sequential read, no query per customer or alert."""
    ledger = _Ledger()
    for notification in notifications_from(app.recorder, 1):
        fold = _FOLDS.get(notification.topic)
        if fold is not None:
            fold(ledger, app.mapper.to_domain_event(notification))
    return ledger.decisions()


# --- the journey, a chunk of customers at a time --------------------------------------------


def customer_chunks(journey: JourneyView, max_facts: int) -> Iterator[list[str]]:
    """Every customer of the journey view (one query), in chunks of at most ``max_facts``
    touchpoints (a customer with more is a chunk of its own)."""
    rows = journey.store.rows(
        f"SELECT customer_id, count() FROM {journey.table} GROUP BY customer_id "
        "ORDER BY customer_id"
    )
    chunk: list[str] = []
    size = 0
    for customer_id, count in rows:
        if chunk and size + int(count) > max_facts:
            yield chunk
            chunk, size = [], 0
        chunk.append(str(customer_id))
        size += int(count)
    if chunk:
        yield chunk


def _by_customer(facts: list[Fact]) -> dict[str, list[Fact]]:
    grouped: dict[str, list[Fact]] = {}
    for fact in facts:
        grouped.setdefault(fact.customer_id, []).append(fact)
    return grouped


@dataclass(frozen=True, slots=True)
class _Run:
    """What every customer is compared with."""

    production_rules: RuleSet
    candidate: RuleSet
    config: ProjectionConfig
    stream_time: int

    def compare(
        self, builder: WhatIfBuilder, facts: list[Fact], production: ProductionDecisions, who: str
    ) -> None:
        stored, suppressed = production.take(who)
        if suppressed:
            found, missing = resolve(
                facts, self.production_rules, self.config, self.stream_time, suppressed
            )
            stored.extend(found)
            builder.add_unresolved(suppressed[decision_id] for decision_id in missing)
        tried = candidate_decisions(facts, self.candidate, self.config, self.stream_time)
        builder.add(stored, tried)


def run_whatif(
    journey: JourneyView,
    app: DecisionsApp,
    production_rules: RuleSet,
    candidate: RuleSet,
    config: ProjectionConfig,
    window: Window | None = None,
    *,
    max_facts: int = 1_000_000,
) -> WhatIfDiff:
    """Candidate rules over every customer's whole history at the stream time production
    reached (the journey's latest ``recorded_at``), compared with the production store."""
    stream_time = journey.latest_recorded()
    run = _Run(production_rules, candidate, config, stream_time)
    production = read_production(app)
    builder = WhatIfBuilder(window or Window())
    for chunk in customer_chunks(journey, max_facts):
        histories = _by_customer(journey.facts_of(chunk))
        for customer_id in chunk:
            facts = in_event_time_order(histories.pop(customer_id, ()))
            run.compare(builder, facts, production, customer_id)
        builder.customers += len(chunk)
    for customer_id in sorted(production.customers()):  # decided, yet not in the view
        run.compare(builder, [], production, customer_id)
    return builder.build(production_rules, candidate, stream_time)


def risk_backlog(journey: JourneyView, projector: str = "views", risk: str = "risk") -> int:
    """Log records the projector has committed and the risk engine not yet decided on: while
    it is not 0, production lacks decisions the candidate will show as appearing."""
    positions = ClickHousePositionStore(journey.store)
    try:
        ends, done = positions.current(projector)[1], positions.get(risk)
    except ClickHouseError:  # no positions table: nothing was ever projected
        return 0
    return sum(max(0, end - done.get(partition, 0)) for partition, end in ends.items())


# --- as JSON ----------------------------------------------------------------------------------


def diff_json(diff: WhatIfDiff, limit: int | None = None) -> dict[str, Any]:
    """The diff for programs (every entry, or ``limit`` per category), deterministic order."""
    return {
        "changed": diff.changed,
        "stream_time": iso_micros(diff.stream_time),
        "window": {"from": iso_micros(diff.window.start), "to": iso_micros(diff.window.end)},
        "customers": diff.customers,
        "rules": [_rule_json(rule, limit) for rule in diff.rules],
    }


def _rule_json(rule: RuleDiff, limit: int | None) -> dict[str, Any]:
    return {
        "rule_id": rule.rule_id,
        "production_version": rule.production_version,
        "candidate_version": rule.candidate_version,
        "changed": rule.changed,
        "unresolved": rule.unresolved,
        "actions": [_action_json(action, limit) for action in rule.actions],
    }


def _action_json(action: ActionDiff, limit: int | None) -> dict[str, Any]:
    return {
        "action": action.action,
        "counts": {
            "appear": len(action.appear),
            "disappear": len(action.disappear),
            "moved": len(action.moved),
            "unchanged": action.unchanged,
        },
        "median_shift_hours": action.median_shift_hours,
        "max_shift_hours": action.max_shift_hours,
        "appear": [_occurrence_json(o) for o in action.appear[:limit]],
        "disappear": [_occurrence_json(o) for o in action.disappear[:limit]],
        "moved": [_move_json(m) for m in action.moved[:limit]],
    }


def _occurrence_json(occurrence: Occurrence) -> dict[str, Any]:
    data: dict[str, Any] = {
        "customer_id": occurrence.customer_id,
        "service_type": occurrence.service_type,
        "at": iso_micros(occurrence.at),
        "rule_version": occurrence.rule_version,
        "decision_id": occurrence.decision_id,
        "triggers": list(occurrence.triggers),
    }
    if occurrence.status:
        data["status"] = occurrence.status
    return data


def _move_json(move: Move) -> dict[str, Any]:
    return {
        "customer_id": move.before.customer_id,
        "service_type": move.before.service_type,
        "before": iso_micros(move.before.at),
        "after": iso_micros(move.after.at),
        "shift_hours": move.shift / HOUR_US,
        "status": move.before.status,
        "production": _occurrence_json(move.before),
        "candidate": _occurrence_json(move.after),
    }
