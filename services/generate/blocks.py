"""Building blocks shared by scenarios: IVR, inbound calls, surveys, cases, field visits.

Why they are shared: most scenarios are a few of these steps chained together (a call opens
a case, a dispatch leads to a visit, the case closes, a survey follows). Each block drafts its
records and returns the time it ends and the record a later step should name as its parent.
"""

from __future__ import annotations

from itertools import accumulate

from .clock import DAY
from .episode import Episode, Ref
from .randomness import pick
from .vocabulary import FEEDBACK_WORDS

#: Score weights per experience quality: good mostly 4-5, poor mostly 1-2.
_SCORE_CUM: dict[str, tuple[float, ...]] = {
    "good": tuple(accumulate((2, 3, 10, 35, 50))),
    "fair": tuple(accumulate((5, 12, 38, 33, 12))),
    "poor": tuple(accumulate((42, 30, 18, 7, 3))),
}
_WORSE = {"good": "fair", "fair": "poor", "poor": "poor"}

#: The menu keys a caller presses to reach each service's option.
_IVR_PATHS = {
    "billing": "1>2>1",
    "payment": "1>2>3",
    "outage": "1>1",
    "meter": "1>4>2",
    "tariff": "1>3>2",
    "repair": "2>1",
    "new_connection": "3>1",
}


def ivr_menu(ep: Episode, t: int, contact: str, *, to_agent: bool) -> int:
    """IVR navigation (key presses in ``ivr_path``); returns when the caller leaves the menu."""
    path = _IVR_PATHS.get(ep.service, "9")
    seconds = ep.rng.randint(20, 150)
    ep.add(
        t,
        "self_service",
        "ivr",
        contact=contact,
        handle=seconds,
        outcome="transferred" if to_agent else "resolved",
        attributes={
            "ivr_path": path + (">0" if to_agent else ""),
            "menu_exit": "agent" if to_agent else "hangup",
        },
    )
    return t + seconds


def inbound_call(
    ep: Episode, t: int, kind: str, outcome: str, *, text: str, busy: bool = False
) -> tuple[int, Ref]:
    """An inbound call: IVR (usually), the customer's request, the agent's handling.

    Returns (end of call, id of the ``contact_handled`` record).
    """
    contact = ep.contact()
    if ep.rng.random() < 0.7:
        t = ivr_menu(ep, t, contact, to_agent=True)
    request = ep.add(t, kind, "phone", contact=contact, text=text)
    wait = ep.rng.randint(240, 1500) if busy else int(ep.rng.expovariate(1 / 70))
    handle = ep.rng.randint(90, 600)
    end = t + wait + handle
    handled = ep.add(
        end,
        "contact_handled",
        "phone",
        actor_id=ep.agent(),
        parent=request,
        contact=contact,
        outcome=outcome,
        wait=wait,
        handle=handle,
        text=ep.note(outcome),
    )
    return end, handled


def send_survey(ep: Episode, t: int, quality: str, parent: Ref) -> None:
    """Maybe send a CSAT survey by SMS and maybe get a score (worse after past grudges)."""
    rng = ep.rng
    if rng.random() > 0.6:
        return
    sent = t + 120 if rng.random() < 0.06 else ep.sim.clock.next_permitted(t + 600, rng)
    survey = ep.add(
        sent,
        "survey_sent",
        "sms",
        parent=parent,
        attributes={"survey": "csat"},
        text="[Power] How satisfied were you with our service? Reply 1-5.",
    )
    if rng.random() > 0.5:
        return
    if ep.sim.grudges[ep.customer] >= 2 and rng.random() < 0.5:
        quality = _WORSE[quality]
    score = rng.choices((1, 2, 3, 4, 5), cum_weights=_SCORE_CUM[quality])[0]
    text = pick(rng, FEEDBACK_WORDS[score]) if rng.random() < 0.5 else None
    ep.add(
        sent + rng.randint(60, 4 * 3600),
        "feedback",
        "sms",
        parent=survey,
        score=score,
        text=text,
        attributes={"survey": "csat"},
    )


def open_case(ep: Episode, t: int, parent: Ref) -> tuple[int, Ref]:
    """case_opened by the agent, case_assigned by the CRM's routing a few minutes later."""
    ep.open_case()
    opened = ep.agent_step(t + 30, "case_opened", "phone", parent=parent, outcome="pending")
    team = f"{ep.service.upper()}-{ep.sim.area_name(ep.customer).upper().replace(chr(39), '')}"
    assigned = ep.add(
        t + ep.rng.randint(120, 1800),
        "case_assigned",
        "phone",
        parent=opened,
        attributes={"team": team},
        text=ep.note("case_assigned"),
    )
    return t + 1800, assigned


def close_case(ep: Episode, t: int, parent: Ref) -> Ref:
    """case_resolved, then case_closed after the customer's confirmation period (2-3 days)."""
    resolved = ep.agent_step(t, "case_resolved", "phone", parent=parent, outcome="resolved")
    ep.add(
        t + ep.rng.randint(2 * DAY, 3 * DAY),
        "case_closed",
        "phone",
        parent=resolved,
        outcome="resolved",
        text=ep.note("case_closed"),
    )
    return resolved


def field_visit(
    ep: Episode, slot: tuple[int, int], parent: Ref, *, resolves: bool
) -> tuple[int, Ref]:
    """A field visit in the slot; the tablet often syncs hours later (a late-arriving record)."""
    arrive = slot[0] + ep.rng.randint(0, 150 * 60)
    on_site = ep.rng.randint(20 * 60, 90 * 60)
    late = ep.rng.random() < 0.6
    delay = ep.rng.randint(3600, 20 * 3600) if late else ep.rng.randint(60, 600)
    outcome = "resolved" if resolves else "unresolved"
    visit = ep.add(
        arrive + on_site,
        "field_visit",
        "field",
        actor_id=ep.technician(),
        parent=parent,
        delay=delay,
        outcome=outcome,
        handle=on_site,
        text=ep.note(f"visit_{outcome}"),
    )
    return arrive + on_site + delay, visit


def dispatch_work(ep: Episode, t: int, parent: Ref) -> tuple[tuple[int, int], Ref]:
    """A work order with its appointment slot (the promise a field visit must keep)."""
    slot = ep.sim.clock.appointment(t, ep.rng)
    iso = ep.sim.clock.iso
    dispatch = ep.add(
        t + ep.rng.randint(300, 3 * 3600),
        "field_dispatch",
        "field",
        parent=parent,
        outcome="promised",
        text=ep.note("field_dispatch"),
        attributes={
            "appointment_start": iso(slot[0]),
            "appointment_end": iso(slot[1]),
            "work_order": f"WO{ep.number:08d}",
        },
    )
    return slot, dispatch
