"""The daily drivers: what happens on one simulated day besides the passing of time.

Why per day: each driver draws today's count (new issues, reminders, campaign calls, an area
outage) and drafts the episodes; the stream then releases whatever was recorded today. The
rates below are per customer, so traffic scales with the number of customers.
"""

from __future__ import annotations

from .blocks import inbound_call, ivr_menu
from .clock import DAY
from .episode import Episode
from .randomness import pick, poisson
from .scenarios import SCENARIO_CUM, SCENARIO_NAMES, SCENARIOS
from .simulation import Simulation
from .vocabulary import REMINDERS

#: Issues (episodes) started per customer per weekday; ~6 records each → a few records a week.
EPISODE_RATE = 0.1
#: Bill / meter-reading / tariff reminders per customer per weekday.
REMINDER_RATE = 1 / 25
#: Share of reminders sent outside the permitted windows (the compliance signal to find).
REMINDER_VIOLATION_SHARE = 0.1
#: Per customer per weekday: an agent's outbound call campaign (arrears, data checks).
CAMPAIGN_CALL_RATE = 0.003
#: Chance per day of an area outage (one burst is always placed in the first week).
OUTAGE_RATE = 0.08


def start_episodes(sim: Simulation, day: int) -> None:
    """Today's new issues: a Poisson number of customers, fewer at weekends."""
    rng = sim.rng
    weekend = sim.clock.date_of(day).weekday() >= 5
    for _ in range(poisson(rng, sim.customers * EPISODE_RATE * (0.7 if weekend else 1.0))):
        name = rng.choices(SCENARIO_NAMES, cum_weights=SCENARIO_CUM)[0]
        _, services, scenario = SCENARIOS[name]
        ep = sim.episode(sim.pick_customer(), pick(rng, services))
        scenario(ep, sim.clock.contact_time(day, rng))


def send_reminders(sim: Simulation, day: int) -> None:
    """Bill, meter-reading and tariff reminders: in the windows on weekdays, with violations."""
    rng, clock = sim.rng, sim.clock
    weekend = clock.date_of(day).weekday() >= 5
    share = REMINDER_VIOLATION_SHARE * 0.5 if weekend else 1.0
    for _ in range(poisson(rng, sim.customers * REMINDER_RATE * share)):
        service = pick(rng, tuple(REMINDERS))
        ep = sim.episode(sim.pick_customer(), service)
        violates = weekend or rng.random() < REMINDER_VIOLATION_SHARE
        when = clock.off_hours(day, rng) if violates else clock.in_window(day, rng)
        channel = "sms" if rng.random() < 0.8 else "phone"
        text = REMINDERS[service].format(
            amount=f"{rng.uniform(40, 600):.2f}", day=clock.date_of(day + 3).isoformat()
        )
        ep.add(
            when,
            "notification_sent",
            channel,
            text=text,
            attributes={"campaign": f"{service}_reminder"},
        )


def campaign_calls(sim: Simulation, day: int) -> None:
    """Agents' outbound campaign calls: for a customer silent for long, a compliance signal.

    Campaign lists are drawn uniformly, not by activity, so some calls reach one of the many
    quiet customers (see :data:`.customers.ACTIVITY`) after months without contact: a first
    contact after a long silence by a real-time channel, which should have been an SMS or e-mail.
    """
    rng, clock = sim.rng, sim.clock
    if clock.date_of(day).weekday() >= 5:
        return
    for _ in range(poisson(rng, sim.customers * CAMPAIGN_CALL_RATE)):
        customer = rng.randrange(sim.customers)
        when = clock.in_window(day, rng)
        ep = sim.episode(customer, "payment")
        answered = rng.random() < 0.7
        ep.add(
            when,
            "notification_sent",
            "phone",
            actor="agent",
            actor_id=ep.agent(),
            outcome="resolved" if answered else "failed",
            handle=rng.randint(60, 300) if answered else None,
            text="Account check: please confirm your contact details and payment plan.",
            attributes={"campaign": "account_check"},
        )


def area_outage(sim: Simulation, day: int) -> None:
    """An area loses power: notices to everyone there, a burst of calls, IVR and app reports."""
    rng, clock = sim.rng, sim.clock
    area = rng.randrange(sim.areas)
    start = clock.midnight(day) + rng.randrange(DAY)
    restored = start + rng.randint(3600, 6 * 3600)
    for customer in range(area, sim.customers, sim.areas):
        ep = sim.episode(customer, "outage")
        notice = ep.add(
            start + rng.randint(480, 1500),
            "outage_notice",
            "sms",
            outcome="pending",
            text=f"[Power] Unplanned outage in {sim.area_name(customer)}, crews on "
            f"site, estimated restoration {clock.local(restored):%H:%M}.",
            attributes={"area": sim.area_name(customer), "outage": f"O{ep.number}"},
        )
        if rng.random() < 0.4:
            _outage_contact(ep, min(start + int(rng.expovariate(1 / 2400)), restored - 60))
        if rng.random() < 0.85:
            ep.add(
                restored + rng.randint(120, 600),
                "outage_notice",
                "sms",
                parent=notice,
                outcome="resolved",
                text="[Power] Supply restored. Sorry for the trouble.",
            )


def _outage_contact(ep: Episode, t: int) -> None:
    roll = ep.rng.random()
    if roll < 0.5:
        ivr_menu(ep, t, ep.contact(), to_agent=False)
    elif roll < 0.75:
        ep.add(t, "report", "app", contact=ep.contact(), text=ep.words())
    else:
        inbound_call(ep, t, "report", "resolved", text=ep.words(), busy=True)
