"""Scenarios: what one customer's issue looks like, and how often each kind happens.

Why a table: :data:`SCENARIOS` maps each scenario to its relative weight, the service types it
plausibly concerns and the function that drafts it, so realistic rates can be tuned in one
place. The quick-contact scenarios (self-service, questions, callbacks, channel hopping) live
here; the ones that run a CRM case live in :mod:`.casework`.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import accumulate

from .blocks import close_case, inbound_call, ivr_menu, open_case, send_survey
from .casework import complaint_case, new_connection, repair, repeat_unresolved, scanned_letter
from .clock import DAY
from .episode import Episode, Ref


def _ivr_self_service(ep: Episode, t: int) -> None:
    """Balance, payment or outage status in the IVR; one caller in six then asks for an agent."""
    if ep.rng.random() < 0.83:
        ivr_menu(ep, t, ep.contact(), to_agent=False)
    else:
        end, handled = inbound_call(ep, t, "inquiry", "resolved", text=ep.words())
        send_survey(ep, end, "good", handled)


#: The pages an app or web visit goes through, per service.
_PAGES = {
    "payment": "/home>/bill>/pay",
    "billing": "/home>/bill>/bill/history",
    "tariff": "/home>/tariffs>/tariffs/time-of-use",
    "meter": "/home>/usage>/usage/daily",
}


def _digital_self_service(ep: Episode, t: int) -> None:
    """App or web self-service: the pages visited, sometimes a payment at the end."""
    channel = "app" if ep.rng.random() < 0.6 else "web"
    visit = ep.add(
        t,
        "self_service",
        channel,
        contact=ep.contact(),
        outcome="resolved",
        handle=ep.rng.randint(30, 400),
        attributes={"pages": _PAGES[ep.service]},
    )
    if ep.service == "payment":
        amount = f"{ep.rng.uniform(40, 600):.2f}"
        ep.add(
            t + 420,
            "notification_sent",
            channel,
            parent=visit,
            outcome="resolved",
            text=f"Payment of CNY {amount} received.",
            attributes={"amount": amount},
        )


def _inquiry_call(ep: Episode, t: int) -> None:
    """A plain question answered on the first call (the bulk of a hotline's traffic)."""
    outcome = "resolved" if ep.rng.random() < 0.9 else "unresolved"
    end, handled = inbound_call(ep, t, "inquiry", outcome, text=ep.words())
    send_survey(ep, end, "good" if outcome == "resolved" else "fair", handled)


def _callback(ep: Episode, t: int) -> None:
    """A callback promised on the call; usually made, sometimes late, sometimes never."""
    end, handled = inbound_call(ep, t, "inquiry", "promised", text=ep.words())
    due = ep.sim.clock.next_permitted(end + 20 * 3600, ep.rng)
    promise = ep.add(
        end + 15,
        "callback_promised",
        "phone",
        actor_id=ep.agent(),
        parent=handled,
        outcome="promised",
        text=ep.note("callback_promised"),
        attributes={"due_by": ep.sim.clock.iso(due)},
    )
    roll = ep.rng.random()
    if roll < 0.8:
        _callback_made(ep, end, promise, in_window=roll < 0.7)
    else:
        _callback_forgotten(ep, due, promise)


def _callback_made(ep: Episode, end: int, promise: Ref, *, in_window: bool) -> None:
    clock, rng = ep.sim.clock, ep.rng
    day = (clock.local(end).date() - clock.start).days + rng.randint(0, 1)
    when = clock.next_permitted(end + 1800, rng) if in_window else clock.off_hours(day, rng)
    when = max(when, end + 900)
    answered = rng.random() < 0.9
    callback = ep.add(
        when,
        "callback",
        "phone",
        actor_id=ep.agent(),
        parent=promise,
        outcome="resolved" if answered else "failed",
        handle=rng.randint(60, 400) if answered else 0,
        text=ep.note("callback" if answered else "failed"),
    )
    send_survey(ep, when, "good" if answered else "fair", callback)


def _callback_forgotten(ep: Episode, due: int, promise: Ref) -> None:
    """Nobody calls back; many customers chase it and complain."""
    ep.sim.grudge(ep.customer)
    if ep.rng.random() < 0.6:
        again = due + ep.rng.randint(3600, 2 * DAY)
        end, handled = inbound_call(
            ep, again, "complaint", "escalated", text=ep.words("no_callback")
        )
        _, assigned = open_case(ep, end, handled)
        close_case(ep, end + ep.rng.randint(3600, DAY), assigned)
        send_survey(ep, end + DAY, "poor", handled)


def _channel_hop(ep: Episode, t: int) -> None:
    """Web FAQ → chat bot that cannot help → a phone call within two days."""
    ep.add(
        t,
        "self_service",
        "web",
        contact=ep.contact(),
        outcome="unresolved",
        handle=ep.rng.randint(60, 300),
        attributes={"pages": "/home>/help>/help/faq"},
    )
    chat_at = t + ep.rng.randint(300, 2400)
    contact = ep.contact()
    question = ep.add(chat_at, "inquiry", "chat", contact=contact, text=ep.words())
    ep.add(
        chat_at + ep.rng.randint(60, 300),
        "contact_handled",
        "chat",
        actor="bot",
        actor_id="bot-chat",
        parent=question,
        contact=contact,
        outcome="transferred" if ep.rng.random() < 0.5 else "unresolved",
        handle=ep.rng.randint(60, 300),
        text=ep.note("transferred"),
    )
    end, handled = inbound_call(
        ep,
        chat_at + ep.rng.randint(2 * 3600, 40 * 3600),
        "inquiry",
        "resolved",
        text=ep.words("repeat"),
    )
    send_survey(ep, end, "fair", handled)


def _suggestion(ep: Episode, t: int) -> None:
    """An app suggestion and its automatic acknowledgement."""
    idea = ep.add(t, "suggestion", "app", contact=ep.contact(), text=ep.words())
    ep.add(t + 5, "notification_sent", "app", parent=idea, text="Thank you for your suggestion.")


def _email_inquiry(ep: Episode, t: int) -> None:
    """An e-mail question answered hours later (the wait is the reply time)."""
    contact = ep.contact()
    question = ep.add(t, "inquiry", "email", contact=contact, text=ep.words())
    reply = ep.sim.clock.next_permitted(t + 1800, ep.rng)
    handle = ep.rng.randint(120, 900)
    handled = ep.add(
        reply + handle,
        "contact_handled",
        "email",
        actor_id=ep.agent(),
        direction="outbound",
        parent=question,
        contact=contact,
        outcome="resolved",
        wait=reply - t,
        handle=handle,
        text=ep.note("resolved"),
    )
    send_survey(ep, reply + handle, "good", handled)


Scenario = Callable[[Episode, int], None]

#: scenario → (relative weight, plausible service types, the scenario).
SCENARIOS: dict[str, tuple[float, tuple[str, ...], Scenario]] = {
    "ivr_self_service": (18, ("billing", "payment", "outage", "meter"), _ivr_self_service),
    "digital_self_service": (14, ("payment", "billing", "tariff", "meter"), _digital_self_service),
    "inquiry_call": (
        20,
        ("billing", "tariff", "meter", "payment", "new_connection"),
        _inquiry_call,
    ),
    "callback": (8, ("billing", "meter", "tariff", "payment"), _callback),
    "repair": (10, ("repair", "repair", "meter"), repair),
    "repeat_unresolved": (4, ("billing", "meter", "repair"), repeat_unresolved),
    "channel_hop": (6, ("billing", "tariff", "payment", "new_connection"), _channel_hop),
    "complaint_case": (6, ("billing", "complaint_handling", "meter"), complaint_case),
    "new_connection": (3, ("new_connection",), new_connection),
    "letter": (2, ("billing", "complaint_handling", "tariff"), scanned_letter),
    "suggestion": (3, ("app_service",), _suggestion),
    "email_inquiry": (4, ("billing", "tariff", "new_connection"), _email_inquiry),
}
SCENARIO_NAMES = tuple(SCENARIOS)
SCENARIO_CUM = tuple(accumulate(weight for weight, _, _ in SCENARIOS.values()))
