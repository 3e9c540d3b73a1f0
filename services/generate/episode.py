"""Drafting records: one customer's issue (an episode) and the records it produces.

Why a drafting layer: scenarios describe *what happens* (a call, a case, a visit) and should
not repeat how a record is shaped. :class:`Episode` numbers the episode's records, fills in the
source system, actor, direction and ids, and hands each record to the simulation's pending
heap. Records reference earlier ones by :data:`Ref` (system, source id), turned into an event
id only when a record names a parent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from events.identity import source_event_id

from .randomness import pick
from .systems import PROVIDER_DEFAULTS, REQUEST_KINDS, SYSTEMS
from .vocabulary import NOTES, WORDS

if TYPE_CHECKING:
    from .simulation import Simulation

#: A record as a later record names it (source system, source id); made an event id on use,
#: since most records are never anyone's parent.
Ref = tuple[str, str]


def _event_id(ref: Ref) -> str:
    """The event id Intake will give the record ``ref`` names (uuid5 of its source id)."""
    return source_event_id(*ref)


def _head(
    kind: str,
    channel: str,
    service: str,
    actor: str | None,
    actor_id: str | None,
    direction: str | None,
) -> dict[str, Any]:
    """The fields every record has, in output order; provider-side kinds default the actor."""
    default_actor, default_direction = PROVIDER_DEFAULTS.get(kind, ("customer", "inbound"))
    who: dict[str, str] = {"type": actor or default_actor}
    if actor_id is not None:
        who["id"] = actor_id
    return {
        "channel": channel,
        "direction": direction or default_direction,
        "actor": who,
        "kind": kind,
        "service_type": service,
    }


class Episode:
    """One customer's issue: numbers its records and carries its case and contact ids."""

    __slots__ = (
        "case_id",
        "contacts",
        "customer",
        "number",
        "origin",
        "rng",
        "service",
        "sim",
        "step",
    )

    def __init__(self, sim: Simulation, customer: int, service: str, number: int) -> None:
        self.sim, self.rng, self.customer, self.service = sim, sim.rng, customer, service
        self.number, self.step, self.contacts = number, 0, 0
        self.case_id: str | None = None
        self.origin: str | None = None  # channel of the customer's first contact

    def contact(self) -> str:
        self.contacts += 1
        return f"CT{self.number:08d}-{self.contacts}"

    def open_case(self) -> str:
        self.case_id = f"K{self.sim.seed}-{self.number:08d}"
        return self.case_id

    def agent_step(
        self,
        when: int,
        kind: str,
        channel: str,
        *,
        parent: Ref | None = None,
        outcome: str | None = None,
    ) -> Ref:
        """A step an agent takes on the case, with the agent's usual note for that kind."""
        actor_id = self.agent()
        return self.add(
            when,
            kind,
            channel,
            actor_id=actor_id,
            parent=parent,
            outcome=outcome,
            text=self.note(kind),
        )

    def add(
        self,
        when: int,
        kind: str,
        channel: str,
        *,
        actor_id: str | None = None,
        actor: str | None = None,
        direction: str | None = None,
        delay: int | None = None,
        parent: Ref | None = None,
        contact: str | None = None,
        outcome: str | None = None,
        score: int | None = None,
        wait: int | None = None,
        handle: int | None = None,
        text: str | None = None,
        attributes: dict[str, str] | None = None,
    ) -> Ref:
        """Draft one record; returns its reference (for a later record's ``parent``)."""
        self.step += 1
        system, channel = self._route(kind, channel)
        sid = f"s{self.sim.seed}-e{self.number}-{self.step}"
        fields = _head(kind, channel, self.service, actor, actor_id, direction)
        optional = (
            ("case_id", self.case_id),
            ("contact_id", contact),
            ("parent_event_id", None if parent is None else _event_id(parent)),
            ("outcome", outcome),
            ("score", score),
            ("wait_seconds", wait),
            ("handle_seconds", handle),
            ("text", text),
            ("attributes", attributes),
        )
        fields.update((key, value) for key, value in optional if value is not None)
        recorded = when + (self.rng.randint(0, 20) if delay is None else delay)
        self.sim.push(
            recorded=recorded,
            occurred=when,
            customer=self.customer,
            system=system,
            sid=sid,
            fields=fields,
        )
        return system, sid

    def _route(self, kind: str, channel: str) -> tuple[str, str]:
        """(source system, channel): case events come from the CRM, on the issue's channel."""
        if kind.startswith("case_"):
            return "crm", self.origin or channel
        if self.origin is None and kind in REQUEST_KINDS:
            self.origin = channel
        return SYSTEMS[channel], channel

    def words(self, key: str | None = None) -> str:
        return pick(self.rng, WORDS[key or self.service])

    def note(self, key: str) -> str:
        """An agent's note: the service-specific wording when there is one."""
        return pick(self.rng, NOTES.get(f"{key}:{self.service}") or NOTES[key])

    def agent(self) -> str:
        return f"A{self.rng.randint(1, 80):03d}"

    def technician(self) -> str:
        return f"T{self.rng.randint(1, 40):03d}"
