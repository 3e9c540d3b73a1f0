"""What the risk rules decide: one immutable :class:`Decision` per alert or flag change.

A decision's id is a uuid5 of the rule, its version, the customer and what triggered it, so the
same history always yields the same decisions with the same ids (a rebuild, a what-if run and
the live engine agree), and a decision applied twice is recognised.

Two clocks, on purpose:

* ``at`` is **event time**: when the decision holds (the contact that made three requests in a
  week, the deadline a complaint passed without an answer);
* ``due`` is the **stream time** (the latest ``recorded_at`` the engine has seen) from which the
  decision may be emitted. A decision triggered by a touchpoint is due when that touchpoint is
  known (its ``recorded_at``); a decision triggered by time passing (an SLA deadline, a flag's
  expiry) is due at that moment, so it is emitted as soon as later touchpoints show the stream
  has passed it, never from the wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from events.identity import uuid5_text

__all__ = [
    "ALERT",
    "FLAG_EXPIRED",
    "FLAG_RAISED",
    "FLAG_RENEWED",
    "SENSITIVE",
    "Decision",
    "decision_id",
]

ALERT = "alert"
FLAG_RAISED = "flag_raised"
FLAG_RENEWED = "flag_renewed"
FLAG_EXPIRED = "flag_expired"

#: The one customer flag the rules keep today.
SENSITIVE = "sensitive"

_NAMESPACE = bytes.fromhex("5e1f7ace00024c1d9a3b7d2e6f4a8b10")


def decision_id(rule_id: str, version: int, customer_id: str, *parts: str) -> str:
    """The deterministic id of a decision (see the module doc)."""
    return uuid5_text(_NAMESPACE, "/".join((rule_id, str(version), customer_id, *parts)))


@dataclass(frozen=True, slots=True)
class Decision:
    """One alert or flag change, with its provenance (rule, version, triggering touchpoints)."""

    decision_id: str
    rule_id: str
    rule_version: int
    customer_id: str
    #: :data:`ALERT`, :data:`FLAG_RAISED`, :data:`FLAG_RENEWED` or :data:`FLAG_EXPIRED`.
    action: str
    #: Event time (µs) the decision holds from.
    at: int
    #: Stream time (µs of ``recorded_at``) from which it may be emitted.
    due: int
    service_type: str
    severity: str
    #: Ids of the touchpoints that caused it, in event-time order.
    triggers: tuple[str, ...]
    summary: str
    #: What an agent or supervisor is shown: the reasons behind it.
    reasons: tuple[str, ...] = ()
    #: Episodes open at ``at`` (agent warnings), as ``episode_id`` strings.
    episodes: tuple[str, ...] = ()

    @property
    def is_alert(self) -> bool:
        return self.action == ALERT

    @property
    def flag(self) -> str | None:
        return None if self.is_alert else SENSITIVE
