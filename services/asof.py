"""``journey --as-of`` and ``scene --as-of``: what was known at a moment, for people and programs.

The adapter around :mod:`replay.asof`: one ClickHouse read of the customer's rows that occurred
by T (the journey table is ordered by customer and event time, so this touches the customer's
granules only), the pure reconstruction, and the production workflow of the alerts it
recomputes (same ids: decision ids are deterministic).

**Production status at T.** An alert's status at T is the last step of its workflow whose
``when`` is at or before T. Those are **wall-clock** times of people's actions (acknowledge,
resolve, dismiss), not event times; the engine's own withdrawals and reinstatements carry no
time and are left out of the status at T (the reconstruction itself already shows what the
rules made of the history known at T). The output says so (``production_note``).

Every command reads through :func:`read_history`: the one place where a read of a customer's
journey happens (``by`` is passed along for the audit trail of reads).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any
from uuid import UUID

from projections.facts import HOUR_US, Fact, in_event_time_order
from projections.journey import JOURNEY_COLUMNS, JourneyEntry, entry_from_row
from projections.policy import ProjectionConfig
from projections.risk import RuleSet
from projections.risk.decisions import Decision
from projections.scenes import Scene
from projections.views.journey_view import JourneyView
from replay.asof import AsOf, FlagInForce, RiskState, reconstruct
from services.decisions.views import iso_micros
from services.journeys import journey_json
from services.moments import to_micros

if TYPE_CHECKING:
    from events.personal import PersonalVault
    from services.decisions.application import DecisionsApp
    from services.platform import Platform

__all__ = [
    "LATE_NOTE",
    "PRODUCTION_NOTE",
    "History",
    "Sources",
    "decision_json",
    "flag_json",
    "journey_as_of",
    "read_history",
    "reconstruct_at",
    "risk_json",
    "scene_as_of",
    "scene_data",
]

LATE_NOTE = "occurred by the as-of moment but recorded after it: not known at that moment"
PRODUCTION_NOTE = (
    "status_at_as_of: the last step of the production workflow whose 'when' is at or before "
    "the as-of moment; those 'when' are wall-clock times of people's actions, not event times, "
    "and engine withdrawals (no time) are not applied"
)
_SELECT = ", ".join(f"`{name}`" for name in JOURNEY_COLUMNS)
_BINARY = ("personal_nonce", "personal_ciphertext")


@dataclass(frozen=True, slots=True)
class Sources:
    """What an as-of read needs; :meth:`of` takes them from a :class:`Platform`."""

    journey: JourneyView
    vault: PersonalVault
    rules: RuleSet
    config: ProjectionConfig
    #: The production decisions (``None``: do not link alerts to their workflow).
    decisions: DecisionsApp | None = None

    @classmethod
    def of(cls, platform: Platform) -> Sources:
        return cls(
            platform.journey_view,
            platform.vault,
            platform.rules,
            platform.projection_config,
            platform.decisions,
        )


class History:
    """A customer's facts that occurred by ``until``, in event-time order, and (read on first
    use, once) their journey rows for output."""

    def __init__(
        self, journey: JourneyView, customer_id: str, facts: Sequence[Fact], until: int | None
    ) -> None:
        self.journey = journey
        self.customer_id = customer_id
        self.facts = tuple(facts)
        self.until = until

    @cached_property
    def entries(self) -> dict[str, JourneyEntry]:
        """The journey rows of :attr:`facts`, by event id (one ClickHouse read)."""
        sql = (
            f"SELECT {_SELECT} FROM {self.journey.table} FINAL "
            "WHERE customer_id = {customer:String}"
        )
        params: dict[str, Any] = {"customer": self.customer_id}
        if self.until is not None:
            sql += " AND occurred_at <= fromUnixTimestamp64Micro({until:Int64}, 'UTC')"
            params["until"] = self.until
        rows = self.journey.store.rows(sql, params, _BINARY)
        return {str(entry.event_id): entry for entry in map(entry_from_row, rows)}

    def entries_of(self, facts: Iterable[Fact]) -> list[JourneyEntry]:
        by_id = self.entries
        return [by_id[fact.event_id] for fact in facts]


def read_history(
    journey: JourneyView, customer_id: str, until: int | None = None, by: str | None = None
) -> History:
    """The customer's touchpoints that occurred by ``until`` (µs; ``None``: all of them).

    The one read of every as-of and replay command: ``by`` names the reader, and this is
    where the audit trail of reads will hook in (unused yet). The facts come from the journey
    view's columnar fact read (the table's key starts with the customer id, so only the
    customer's granules are read); the rows with every column, for output, only when asked.
    """
    facts = [
        fact for fact in journey.facts_of([customer_id]) if until is None or fact.occurred <= until
    ]
    return History(journey, customer_id, in_event_time_order(facts), until)


# -- JSON shapes ------------------------------------------------------------------------------


def decision_json(decision: Decision) -> dict[str, Any]:
    return {
        "decision_id": decision.decision_id,
        "rule_id": decision.rule_id,
        "rule_version": decision.rule_version,
        "action": decision.action,
        "service_type": decision.service_type,
        "severity": decision.severity,
        "at": iso_micros(decision.at),
        "due": iso_micros(decision.due),
        "triggers": list(decision.triggers),
        "summary": decision.summary,
        "reasons": list(decision.reasons),
        "episodes": list(decision.episodes),
    }


def flag_json(flag: FlagInForce) -> dict[str, Any]:
    return {
        "flag": flag.flag,
        "service_type": flag.service_type,
        "since": iso_micros(flag.since),
        "raised_by": flag.raised.decision_id,
        "triggers": list(flag.raised.triggers),
        "summary": flag.raised.summary,
        "renewed_by": [renewal.decision_id for renewal in flag.renewals],
        "expires_at": iso_micros(flag.expires_at),
    }


def scene_data(scene: Scene) -> dict[str, Any]:
    """A scene from the pure fold in the shape ``scene --json`` prints for a stored one."""
    pairings = [
        {
            "event_id": p.event_id,
            "kind": p.kind,
            "at": iso_micros(p.at),
            "execution_event_id": p.execution_event_id,
            "execution_kind": p.execution_kind,
            "executed_at": iso_micros(p.executed_at),
            "status": p.status,
        }
        for p in scene.pairings
    ]
    return {
        "customer_id": scene.customer_id,
        "episode_id": scene.episode_id,
        "service_type": scene.service_type,
        "case_id": scene.case_id,
        "started_at": iso_micros(scene.started_at),
        "started_offset_minutes": scene.started_offset_minutes,
        "ended_at": iso_micros(scene.ended_at),
        "touchpoints": scene.touchpoints,
        "contacts": scene.contacts,
        "inbound_contacts": scene.inbound_contacts,
        "channels": list(scene.channels),
        "channel_path": list(scene.channel_path),
        "entry_channel": scene.entry_channel,
        "handoffs": [
            {
                "at": iso_micros(h.at),
                "kind": h.kind,
                "source": h.source,
                "target": h.target,
                "event_id": h.event_id,
            }
            for h in scene.handoffs
        ],
        "status": scene.status,
        "first_resolved_at": iso_micros(scene.first_resolved_at),
        "resolved_at": iso_micros(scene.resolved_at),
        "time_to_resolution_seconds": scene.time_to_resolution_seconds,
        "reopened": scene.reopened,
        "first_contact_resolution": scene.first_contact_resolution,
        "outcome": scene.outcome,
        "satisfaction": scene.satisfaction,
        "feedback_count": scene.feedback_count,
        "wait_seconds": scene.wait_seconds,
        "handle_seconds": scene.handle_seconds,
        "cost": scene.cost,
        "pairings": pairings,
        "unmatched_promises": len(scene.unmatched_promises),
        "event_ids": list(scene.event_ids),
        "unmatched": [p for p in pairings if p["status"] in ("open", "missed")],
    }


def _late_json(
    customer_id: str, history: History, late: Sequence[Fact], moment: int, vault: PersonalVault
) -> list[dict[str, Any]]:
    shown: list[dict[str, Any]] = journey_json(customer_id, history.entries_of(late), vault)[
        "touchpoints"
    ]
    for tp, fact in zip(shown, late, strict=True):
        tp["known_at_as_of"] = False
        tp["late_by_hours"] = round((fact.recorded - fact.occurred) / HOUR_US, 2)
        tp["recorded_after_as_of_hours"] = round((fact.recorded - moment) / HOUR_US, 2)
        tp["note"] = LATE_NOTE
    return shown


def risk_json(
    state: RiskState, production: Mapping[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The risk state at the moment; ``production`` maps alert ids to their workflow."""
    production = production or {}

    def linked(decision: Decision) -> dict[str, Any]:
        return {**decision_json(decision), "production": production.get(decision.decision_id)}

    latest = state.latest_contact
    return {
        "stream_time": iso_micros(state.moment),
        "sensitive": [flag_json(flag) for flag in state.flags],
        "alerts": [linked(alert) for alert in state.alerts],
        "agent_warnings": {
            "latest_contact": None
            if latest is None
            else {
                "event_id": latest.event_id,
                "occurred_at": iso_micros(latest.occurred),
                "channel": latest.channel,
                "kind": latest.kind,
                "service_type": latest.service_type,
            },
            "shown_at_latest_contact": None if state.shown is None else linked(state.shown),
            "issued": [linked(warning) for warning in state.warnings],
        },
        "flag_changes": [decision_json(change) for change in state.flag_changes],
        "production_note": PRODUCTION_NOTE,
    }


# -- production workflow ----------------------------------------------------------------------


def _micros(iso: str) -> int:
    return to_micros(datetime.fromisoformat(iso))


def status_at(history: Sequence[Mapping[str, str]], moment: int) -> str:
    """An alert's status at ``moment`` from its workflow steps timed at or before it."""
    status = "open"
    for step in history:
        when = step.get("when")
        if when is not None and _micros(when) <= moment:
            status = step["status"]
    return status


def production_of(
    app: DecisionsApp | None, customer_id: str, decisions: Iterable[Decision], moment: int
) -> dict[str, dict[str, Any]]:
    """The production workflow of the recomputed alerts that production recorded."""
    if app is None:
        return {}
    risk = app.risk_of(customer_id)
    if risk is None:
        return {}
    linked = set(risk.alert_ids)
    found: dict[str, dict[str, Any]] = {}
    for decision in decisions:
        key = decision.decision_id
        if key in linked:
            alert: Any = app.repository.get(UUID(key))
            found[key] = {
                "status_at_as_of": status_at(alert.history, moment),
                "status_now": alert.status,
                "history": list(alert.history),
            }
        elif key in risk.decisions:
            found[key] = {"status_at_as_of": risk.decisions[key], "status_now": risk.decisions[key]}
    return found


# -- the two commands -------------------------------------------------------------------------


def reconstruct_at(
    sources: Sources, customer_id: str, moment: int, by: str | None = None
) -> tuple[History, AsOf]:
    """The customer's history read once, and what was known at ``moment``: the
    reconstruction itself, before any output is built."""
    history = read_history(sources.journey, customer_id, moment, by)
    return history, reconstruct(history.facts, moment, sources.rules, sources.config)


def _risk(sources: Sources, customer_id: str, state: AsOf) -> dict[str, Any]:
    risk = state.risk
    production = production_of(
        sources.decisions, customer_id, (*risk.alerts, *risk.warnings), state.moment
    )
    return risk_json(risk, production)


def journey_as_of(
    sources: Sources, customer_id: str, moment: int, by: str | None = None
) -> dict[str, Any] | None:
    """What was known about ``customer_id`` at ``moment`` (``None``: nothing occurred by then)."""
    history, state = reconstruct_at(sources, customer_id, moment, by)
    if not history.facts:
        return None
    known = journey_json(customer_id, history.entries_of(state.known), sources.vault)
    return {
        "as_of": iso_micros(moment),
        "customer": known["customer"],
        "known": known,
        "late_arrivals": _late_json(customer_id, history, state.late, moment, sources.vault),
        "scenes": [scene_data(scene) for scene in state.scenes],
        "risk": _risk(sources, customer_id, state),
    }


def scene_as_of(
    sources: Sources,
    episode: Mapping[str, Any],
    moment: int,
    by: str | None = None,
) -> dict[str, Any]:
    """The episode ``episode`` (a scene-view row of today) as it stood at ``moment``."""
    customer_id = str(episode["customer_id"])
    episode_id = str(episode["episode_id"])
    members = set(episode["event_ids"])
    history, state = reconstruct_at(sources, customer_id, moment, by)
    then = state.scenes_with(members)
    scenes = []
    for scene in then:
        data = scene_data(scene)
        entries = history.entries_of(f for f in state.known if f.event_id in set(scene.event_ids))
        data["touchpoints_detail"] = journey_json(customer_id, entries, sources.vault)[
            "touchpoints"
        ]
        scenes.append(data)
    late = [fact for fact in state.late if fact.event_id in members]
    return {
        "as_of": iso_micros(moment),
        "episode_id": episode_id,
        "customer_id": customer_id,
        "existed": bool(then),
        "note": _episode_note(episode_id, [scene.episode_id for scene in then]),
        "scenes": scenes,
        "late_arrivals": _late_json(customer_id, history, late, moment, sources.vault),
        "risk": _risk(sources, customer_id, state),
    }


def _episode_note(episode_id: str, then: Sequence[str]) -> str:
    if not then:
        return (
            "this episode did not exist yet at the as-of moment: none of its touchpoints was known"
        )
    if len(then) > 1:
        return (
            f"at the as-of moment these touchpoints formed {len(then)} separate episodes; "
            "touchpoints known later joined them into one"
        )
    if then[0] != episode_id:
        return (
            f"at the as-of moment this episode had the id {then[0]}: a touchpoint known later "
            "became its first"
        )
    return "the episode as it stood at the as-of moment (matched by its touchpoints)"
