"""Scenarios that run a CRM case: repairs, repeat calls, complaints, new connections, letters.

Why they are grouped: each opens a case, drives it through assignment, escalation, field work
or reopening, and closes it. These are the episodes that contain the situations later
capabilities look for (missed appointments, repeat contacts, reopened cases, late arrivals).
"""

from __future__ import annotations

from .blocks import (
    close_case,
    dispatch_work,
    field_visit,
    inbound_call,
    open_case,
    send_survey,
)
from .clock import DAY
from .episode import Episode, Ref
from .randomness import pick


def _fault_report(ep: Episode, t: int) -> tuple[int, Ref]:
    """The customer reports the fault by phone or in the app; returns (time, record id)."""
    if ep.rng.random() < 0.65:
        return inbound_call(ep, t, "report", "pending", text=ep.words())
    report = ep.add(
        t,
        "report",
        "app",
        contact=ep.contact(),
        text=ep.words(),
        attributes={"photo": "yes" if ep.rng.random() < 0.4 else "no"},
    )
    return t + 60, report


def repair(ep: Episode, t: int) -> None:
    """Fault → case → dispatch → a visit, or a missed appointment the customer complains about."""
    end, report = _fault_report(ep, t)
    at, assigned = open_case(ep, end, report)
    slot, dispatch = dispatch_work(ep, at, assigned)
    if ep.rng.random() < 0.22:
        _missed_appointment(ep, slot, dispatch)
        return
    resolves = ep.rng.random() < 0.85
    synced, visit = field_visit(ep, slot, dispatch, resolves=resolves)
    if not resolves:
        slot, dispatch = dispatch_work(ep, synced, visit)
        synced, visit = field_visit(ep, slot, dispatch, resolves=True)
    resolved = close_case(ep, synced + ep.rng.randint(600, 4 * 3600), visit)
    send_survey(ep, synced + 3600, "good" if resolves else "fair", resolved)


def _missed_appointment(ep: Episode, slot: tuple[int, int], dispatch: Ref) -> None:
    """Nobody comes: the system notes it, the customer complains, the case escalates."""
    ep.sim.grudge(ep.customer)
    missed = ep.add(
        slot[1] + 900,
        "appointment_missed",
        "field",
        parent=dispatch,
        outcome="failed",
        text=ep.note("appointment_missed"),
    )
    if ep.rng.random() > 0.8:
        return
    end, _ = inbound_call(
        ep,
        slot[1] + ep.rng.randint(1200, 5 * 3600),
        "complaint",
        "escalated",
        text=ep.words("missed"),
    )
    escalated = ep.agent_step(
        end + 60, "case_escalated", "phone", parent=missed, outcome="escalated"
    )
    slot, dispatch = dispatch_work(ep, end, escalated)
    synced, visit = field_visit(ep, slot, dispatch, resolves=True)
    resolved = close_case(ep, synced + 1800, visit)
    send_survey(ep, synced + 3600, "poor", resolved)


def repeat_unresolved(ep: Episode, t: int) -> None:
    """Three to five calls about one issue within a week before anyone owns it."""
    text = ep.words()
    for _ in range(ep.rng.randint(2, 4)):
        end = inbound_call(ep, t, "inquiry", "unresolved", text=text)[0]
        t = ep.sim.clock.contact_time(_day_index(ep, end) + ep.rng.randint(1, 2), ep.rng)
        text = ep.words("repeat")
    t, handled = inbound_call(ep, t, "complaint", "escalated", text=text)
    ep.sim.grudge(ep.customer)
    _, assigned = open_case(ep, t, handled)
    escalated = ep.agent_step(
        t + 3600, "case_escalated", "phone", parent=assigned, outcome="escalated"
    )
    resolved = close_case(ep, t + ep.rng.randint(DAY, 3 * DAY), escalated)
    send_survey(ep, t + 3 * DAY, "poor", resolved)


def _day_index(ep: Episode, ts: int) -> int:
    return (ep.sim.clock.local(ts).date() - ep.sim.clock.start).days


def complaint_case(ep: Episode, t: int) -> None:
    """A written complaint handled as a case; one in seven is reopened after closing."""
    channel = pick(ep.rng, ("social", "email", "app", "web"))
    complaint = ep.add(t, "complaint", channel, contact=ep.contact(), text=ep.words())
    reply_at = ep.sim.clock.next_permitted(t + 1800, ep.rng)
    at, assigned = open_case(ep, reply_at, complaint)
    if ep.rng.random() < 0.35:
        assigned = ep.agent_step(
            at + 3600, "case_escalated", "phone", parent=assigned, outcome="escalated"
        )
    fixed = at + ep.rng.randint(DAY, 5 * DAY)
    resolved = close_case(ep, fixed, assigned)
    ep.add(
        ep.sim.clock.next_permitted(fixed + 300, ep.rng),
        "notification_sent",
        "email" if channel == "email" else "sms",
        parent=resolved,
        outcome="resolved",
        text="[Power] Your case has been resolved.",
    )
    if ep.rng.random() < 0.15:
        _reopen(ep, fixed + ep.rng.randint(DAY, 2 * DAY), resolved)
    else:
        send_survey(ep, fixed + 600, "fair", resolved)


def _reopen(ep: Episode, t: int, resolved: Ref) -> None:
    end, _ = inbound_call(ep, t, "complaint", "escalated", text=ep.words("reopen"))
    reopened = ep.agent_step(
        end + 120, "case_reopened", "phone", parent=resolved, outcome="pending"
    )
    again = close_case(ep, end + ep.rng.randint(DAY, 3 * DAY), reopened)
    send_survey(ep, end + 3 * DAY, "poor", again)


def new_connection(ep: Episode, t: int) -> None:
    """Counter application → survey visit → letter confirming the connection."""
    contact = ep.contact()
    request = ep.add(t, "service_request", "counter", contact=contact, text=ep.words())
    wait, handle = ep.rng.randint(60, 1800), ep.rng.randint(300, 1200)
    handled = ep.add(
        t + wait + handle,
        "contact_handled",
        "counter",
        actor_id=ep.agent(),
        parent=request,
        contact=contact,
        outcome="pending",
        wait=wait,
        handle=handle,
        text=ep.note("pending"),
    )
    at, assigned = open_case(ep, t + wait + handle, handled)
    slot, dispatch = dispatch_work(ep, at, assigned)
    synced, visit = field_visit(ep, slot, dispatch, resolves=True)
    resolved = close_case(ep, synced + 3600, visit)
    ep.add(
        ep.sim.clock.next_permitted(synced + 7200, ep.rng),
        "notification_sent",
        "letter",
        parent=resolved,
        outcome="resolved",
        text="Your new connection is live. Account details enclosed.",
    )
    send_survey(ep, synced + 7200, "good", resolved)


def scanned_letter(ep: Episode, t: int) -> None:
    """A letter written today, scanned days later: a late arrival that opens a case."""
    scanned_after = ep.rng.randint(2 * DAY, 6 * DAY)
    letter = ep.add(t, "complaint", "letter", delay=scanned_after, text=ep.words())
    at, assigned = open_case(ep, t + scanned_after + 3600, letter)
    resolved = close_case(ep, at + ep.rng.randint(DAY, 4 * DAY), assigned)
    ep.add(
        ep.sim.clock.next_permitted(at + 4 * DAY, ep.rng),
        "notification_sent",
        "letter",
        parent=resolved,
        outcome="resolved",
        text="Reply to your letter: we have reviewed your account.",
    )
