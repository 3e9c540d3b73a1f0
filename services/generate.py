"""Demo data: a deterministic, streaming NDJSON feed of a power utility's service line.

Why it exists: every later capability (journeys, scenes, risk rules, do-not-disturb checks,
channel economics) needs traffic that *contains* the situations it is meant to find. The
generator plays a small city's power-service hotline and writes what its systems would submit:
IVR logs, CTI call records, app and web clicks, chat, SMS gateway receipts, CRM case events,
field-service reports synced from the technicians' tablets, scanned letters.

Design choices, and why:

* **Same arguments, same bytes.** One ``random.Random(seed)`` drives everything, customer
  profiles come from a fixed integer mix of (seed, customer number), keys are written in a fixed
  order and nothing reads the wall clock or depends on hash order. Demos, benchmarks and
  golden-file tests can therefore be regenerated instead of stored.
* **A live feed, streamed.** Records come out in ``recorded_at`` order, as a consumer of the
  live feed would see them. The simulation walks day by day; each episode (one customer's
  issue, from first contact to closed case) is drafted when it starts, its future records wait
  in a heap keyed by recorded time, and a day's records leave the heap once the day is over.
  Memory is the heap of *pending* records plus a few bytes per customer, never the history:
  twenty times the days costs the same memory, twenty times the customers costs twenty times
  the (small) active state.
* **Late arrivals are real.** Field reports sync hours after the visit and letters are scanned
  days after they were written: those records carry an old ``occurred_at`` and appear in the
  stream at their ``recorded_at``. Nothing past the horizon is emitted (the feed simply stops).
* **Scenarios at realistic rates.** Outage bursts, repeat calls about one unresolved issue,
  missed repair appointments followed by complaints, callbacks promised and (not always)
  made, channel hopping, case life cycles, surveys and scores that drop after bad experiences,
  outbound contact mostly in the permitted windows with some violations. Each scenario is a
  small function in :data:`_SCENARIOS`, picked by weight.
"""

from __future__ import annotations

import heapq
import json
import math
import random
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import accumulate
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from events.identity import source_event_id

__all__ = ["DEFAULT_START", "DEFAULT_TZ", "dumps_record", "generate", "write_ndjson"]

DEFAULT_START = date(2026, 1, 5)
DEFAULT_TZ = "Asia/Shanghai"

#: Issues (episodes) started per customer per weekday; ~6 records each → a few records a week.
EPISODE_RATE = 0.1
#: Bill / meter-reading / tariff reminders per customer per weekday.
REMINDER_RATE = 1 / 25
#: Share of reminders sent outside the permitted windows (the compliance signal to find).
REMINDER_VIOLATION_SHARE = 0.1
#: Per customer per weekday: an agent's outbound call campaign (arrears, data checks).
CAMPAIGN_CALL_RATE = 0.003
#: Customers differ: half rarely get in touch, a few are on the phone every week.
#: (share of customers in thousandths, relative activity); the mean activity is 1.
_ACTIVITY = ((500, 0.15), (350, 1.0), (150, 3.75))
#: Chance per day of an area outage (one burst is always placed in the first week).
OUTAGE_RATE = 0.08

_MASK = (1 << 64) - 1
_DAY = 86400
_WINDOWS = ((9 * 60 + 30, 12 * 60), (14 * 60, 17 * 60 + 30))  # minutes of the day, local time

# --------------------------------------------------------------------------- vocabularies

_SURNAMES = (
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Zhao",
    "Wu",
    "Zhou",
    "Xu",
    "Sun",
    "Ma",
    "Zhu",
    "Hu",
    "Guo",
    "He",
    "Lin",
    "Gao",
    "Luo",
)
_GIVEN = (
    "Wei",
    "Fang",
    "Na",
    "Min",
    "Jing",
    "Lei",
    "Qiang",
    "Yan",
    "Jun",
    "Yong",
    "Jie",
    "Tao",
    "Ming",
    "Xia",
    "Hui",
    "Ping",
    "Gang",
    "Hong",
    "Bo",
    "Li",
    "Xin",
    "Yu",
)
_STREETS = (
    "Xinhua Road",
    "Jiangning Road",
    "Wuning Road",
    "Changshou Road",
    "Tianshan Road",
    "Zhongshan North Road",
    "Huaihai Road",
    "Siping Road",
    "Guoding Road",
    "Lianhua Road",
    "Longwu Road",
    "Gumei Road",
    "Caoxi Road",
    "Yishan Road",
)
_AREAS = (
    "Minhang",
    "Pudong",
    "Xuhui",
    "Jing'an",
    "Putuo",
    "Changning",
    "Yangpu",
    "Hongkou",
    "Baoshan",
    "Jiading",
    "Songjiang",
    "Qingpu",
)
_MAIL_DOMAINS = ("example.com", "example.net", "example.org")
_MOBILE_PREFIXES = ("139", "138", "137", "186", "158", "150", "188", "135", "177", "199")

#: Which personal fields each channel's system knows (an IVR knows the caller's number, ...).
_KNOWN_FIELDS: dict[str, tuple[str, ...]] = {
    "phone": ("name", "phone", "account"),
    "ivr": ("phone", "account"),
    "sms": ("name", "phone"),
    "app": ("name", "phone", "email", "account"),
    "web": ("name", "email", "account"),
    "chat": ("name", "email", "account"),
    "email": ("name", "email", "account"),
    "social": ("name", "social_handle"),
    "counter": ("name", "phone", "account", "address"),
    "field": ("name", "phone", "account", "address"),
    "letter": ("name", "account", "address"),
}

#: The CRM holds the full customer record (it owns the cases).
_CRM_FIELDS = ("name", "phone", "email", "account", "address")

#: Source system per channel; case events come from the CRM whatever the channel.
_SYSTEMS = {
    "phone": "cti",
    "ivr": "ivr",
    "app": "app",
    "web": "web",
    "chat": "chat",
    "sms": "sms-gw",
    "email": "mail",
    "social": "social",
    "counter": "counter",
    "field": "fsm",
    "letter": "mailroom",
}

#: Requests: the channel of the first one is the channel a case "came in by".
_REQUEST_KINDS = frozenset({"inquiry", "complaint", "report", "suggestion", "service_request"})
#: Default (actor, direction) of provider-side kinds.
_PROVIDER_DEFAULTS: dict[str, tuple[str, str]] = {
    "contact_handled": ("agent", "inbound"),
    "callback": ("agent", "outbound"),
    "callback_promised": ("agent", "internal"),
    "field_dispatch": ("system", "internal"),
    "field_visit": ("agent", "outbound"),
    "appointment_missed": ("system", "internal"),
    "case_opened": ("agent", "internal"),
    "case_assigned": ("system", "internal"),
    "case_escalated": ("agent", "internal"),
    "case_resolved": ("agent", "internal"),
    "case_reopened": ("agent", "internal"),
    "case_closed": ("system", "internal"),
    "notification_sent": ("system", "outbound"),
    "outage_notice": ("system", "outbound"),
    "survey_sent": ("system", "outbound"),
}

_WORDS: dict[str, tuple[str, ...]] = {
    "outage": (
        "No power in our building since this afternoon.",
        "The whole street is dark, when will power be back?",
        "Power is off again, my fridge is full of food.",
        "Is there a planned outage in my area today?",
    ),
    "billing": (
        "My bill this month is almost double the usual, please check.",
        "I was charged twice for last month.",
        "Why is there a late fee? I paid on time.",
        "Can you explain the peak and off-peak charges on my bill?",
    ),
    "payment": (
        "I paid in the app but it still shows arrears.",
        "How do I set up automatic payment from my bank card?",
        "My payment failed, will my supply be cut?",
    ),
    "meter": (
        "The meter reading on my bill is wrong, the real reading is lower.",
        "My smart meter display is blank.",
        "Nobody has read my meter for three months.",
    ),
    "new_connection": (
        "I want to apply for a new connection for my shop.",
        "What documents do I need to open an account for a new flat?",
        "How long until my new connection is installed?",
    ),
    "repair": (
        "The breaker keeps tripping and a socket in the kitchen sparks.",
        "The service cable outside my house is hanging low.",
        "Half the house has no power, the other half is fine.",
        "Lights flicker every evening, the voltage is unstable.",
    ),
    "tariff": (
        "Am I eligible for the tiered residential tariff?",
        "How do I switch to the time-of-use tariff?",
        "Did the price per kWh change this year?",
    ),
    "complaint_handling": (
        "I complained last week and nobody has contacted me.",
        "The agent on the phone was rude to me.",
        "I want to know the result of my complaint.",
    ),
    "app_service": (
        "The app logs me out every time I try to pay.",
        "Please show daily usage in the app.",
        "It would help to get the bill as a PDF in the app.",
    ),
    "missed": (
        "Nobody came for the repair appointment today, I waited at home all afternoon.",
        "The technician never showed up and nobody called.",
        "I took a day off for the appointment and no one came.",
    ),
    "repeat": (
        "I called about this already, it is still not solved.",
        "This is the third time I am calling about the same thing.",
        "Still the same problem, you said it would be fixed.",
    ),
    "no_callback": (
        "You promised to call me back yesterday, nobody called.",
        "Still waiting for the callback I was promised.",
    ),
    "reopen": (
        "The problem is back, you closed the case but nothing is fixed.",
        "You closed my case but the issue is not solved.",
    ),
}

_FEEDBACK_WORDS: dict[int, tuple[str, ...]] = {
    1: ("Terrible, nobody kept their promise.", "Very disappointed, wasted my whole day."),
    2: ("Took far too long.", "Had to call several times."),
    3: ("OK in the end.", "Solved, but slowly."),
    4: ("Good service, thanks.", "Agent was helpful."),
    5: ("Excellent, very quick!", "Technician was polite and fast, thank you."),
}

_NOTES: dict[str, tuple[str, ...]] = {
    "resolved": (
        "Checked the account, resolved on the call.",
        "Answered the question, customer satisfied.",
    ),
    "resolved:billing": (
        "Explained the bill items, customer satisfied.",
        "Checked the account, resolved on the call.",
    ),
    "resolved:outage": ("Gave outage status and estimated restoration time.",),
    "unresolved": (
        "Could not resolve on first contact, customer still disputes.",
        "Explained again, customer not convinced.",
    ),
    "promised": (
        "Needs a back-office check, callback promised.",
        "Billing team to verify the reading, will call back.",
    ),
    "escalated": ("Customer upset, escalated to the supervisor.",),
    "transferred": ("Bot could not answer, handed over to the agent queue.",),
    "pending": ("Fault report logged, work order created.",),
    "failed": ("No answer, left a voicemail.",),
    "callback": (
        "Called back with the result of the check.",
        "Called back: reading corrected, credit on next bill.",
    ),
    "callback_promised": ("Callback promised within one working day.",),
    "field_dispatch": ("Work order dispatched to the field team.",),
    "visit_resolved": (
        "Replaced the faulty breaker, supply restored.",
        "Reconnected a loose neutral at the meter box.",
        "Replaced the meter, reading verified with the customer.",
    ),
    "visit_unresolved": ("Needs a replacement part, second visit required.",),
    "appointment_missed": ("Technician did not arrive within the appointment window.",),
    "case_opened": ("Case opened from the customer's contact.",),
    "case_assigned": ("Assigned to the responsible team.",),
    "case_escalated": ("Escalated: repeated contact / customer dissatisfied.",),
    "case_resolved": (
        "Root cause fixed, customer informed.",
        "Bill corrected and customer informed.",
    ),
    "case_reopened": ("Reopened: customer reports the issue persists.",),
    "case_closed": ("Closed after the confirmation period.",),
}

_REMINDERS: dict[str, str] = {
    "payment": "[Power] Your bill of CNY {amount} is due on the 25th. Reply TD to opt out.",
    "meter": "[Power] Meter reading in your building on {day}. Please keep the box accessible.",
    "tariff": "[Power] Tariff notice: new time-of-use prices apply from next month.",
}

#: Relative chance that a customer contacts us at each local hour (busiest mid-morning).
_HOUR_CUM = tuple(
    accumulate(
        (
            0.2,
            0.1,
            0.1,
            0.1,
            0.1,
            0.3,
            0.8,
            2,
            4,
            6,
            6.5,
            6,
            4.5,
            5,
            6,
            6,
            5.5,
            4.5,
            3.5,
            3.5,
            3,
            2,
            1.2,
            0.5,
        )
    )
)
#: Score weights per experience quality: good mostly 4-5, poor mostly 1-2.
_SCORE_CUM: dict[str, tuple[float, ...]] = {
    "good": tuple(accumulate((2, 3, 10, 35, 50))),
    "fair": tuple(accumulate((5, 12, 38, 33, 12))),
    "poor": tuple(accumulate((42, 30, 18, 7, 3))),
}
_WORSE = {"good": "fair", "fair": "poor", "poor": "poor"}


def _mix(*parts: int) -> int:
    """A fixed 64-bit hash (splitmix64 rounds): cheap per-customer randomness with no state."""
    x = 0x9E3779B97F4A7C15
    for part in parts:
        x = ((x ^ (part & _MASK)) * 0xBF58476D1CE4E5B9) & _MASK
        x ^= x >> 31
        x = (x * 0x94D049BB133111EB) & _MASK
        x ^= x >> 29
    return x


def _event_id(ref: _Ref) -> str:
    """The event id Intake will give the record ``ref`` names (uuid5 of its source id)."""
    return source_event_id(*ref)


def _pick(rng: random.Random, options: Sequence[str]) -> str:
    return options[rng.randrange(len(options))]


def _poisson(rng: random.Random, lam: float) -> int:
    """Poisson draw: Knuth's product method when small, a rounded normal when large."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, product = math.exp(-lam), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


# --------------------------------------------------------------------------- time


class _Clock:
    """Local-time arithmetic over UTC epoch seconds (integers order correctly across DST)."""

    def __init__(self, start: date, zone: ZoneInfo) -> None:
        self.start = start
        self.zone = zone

    def date_of(self, day: int) -> date:
        return self.start + timedelta(days=day)

    def at(self, when: date, minute: float) -> int:
        """Local wall-clock minute of a date as epoch seconds (wall time, so DST days shift)."""
        return int(datetime.combine(when, time(), self.zone).timestamp() + minute * 60)

    def midnight(self, day: int) -> int:
        return self.at(self.date_of(day), 0)

    def local(self, ts: int) -> datetime:
        return datetime.fromtimestamp(ts, self.zone)

    def iso(self, ts: int) -> str:
        return self.local(ts).isoformat()

    def next_permitted(self, ts: int, rng: random.Random) -> int:
        """A moment in the first do-not-disturb window at or after ``ts`` (weekdays only)."""
        loc = self.local(ts)
        day, minute = loc.date(), loc.hour * 60 + loc.minute
        for _ in range(8):
            if day.weekday() < 5:
                for lo, hi in _WINDOWS:
                    begin = max(minute, lo)
                    if begin < hi - 1:
                        return max(
                            ts, self.at(day, begin + rng.uniform(0, min(40, hi - begin - 1)))
                        )
            day, minute = day + timedelta(days=1), 0
        return ts

    def in_window(self, day: int, rng: random.Random) -> int:
        """A moment inside one of ``day``'s permitted windows (the caller picks a weekday)."""
        (lo, hi), (lo2, hi2) = _WINDOWS
        minute = rng.uniform(0, hi - lo + hi2 - lo2)
        minute += lo if minute < hi - lo else lo2 - (hi - lo)
        return self.at(self.date_of(day), minute)

    def off_hours(self, day: int, rng: random.Random) -> int:
        """A moment on ``day`` outside the permitted windows (evening, early, lunch, weekend)."""
        when = self.date_of(day)
        if when.weekday() >= 5:
            return self.at(when, rng.uniform(9 * 60, 20 * 60))
        lo, hi = _pick_span(
            rng, ((18 * 60, 21 * 60 + 30), (7 * 60 + 30, 9 * 60 + 20), (12 * 60 + 10, 13 * 60 + 50))
        )
        return self.at(when, rng.uniform(lo, hi))

    def contact_time(self, day: int, rng: random.Random) -> int:
        """When a customer reaches out on ``day``: weighted by hour, busiest mid-morning."""
        hour = rng.choices(range(24), cum_weights=_HOUR_CUM)[0]
        return self.at(self.date_of(day), hour * 60 + rng.uniform(0, 59.9))

    def appointment(self, ts: int, rng: random.Random) -> tuple[int, int]:
        """A 3-hour field appointment slot 1-3 days after ``ts``, Monday to Saturday."""
        when = self.local(ts).date() + timedelta(days=rng.randint(1, 3))
        if when.weekday() == 6:
            when += timedelta(days=1)
        begin = self.at(when, 9 * 60 if rng.random() < 0.5 else 14 * 60)
        return begin, begin + 3 * 3600


def _pick_span(rng: random.Random, spans: Sequence[tuple[int, int]]) -> tuple[int, int]:
    return spans[rng.randrange(len(spans))]


# --------------------------------------------------------------------------- simulation


#: A record as a later record names it (source system, source id); made an event id on use,
#: since most records are never anyone's parent.
_Ref = tuple[str, str]

#: A drafted record waiting for its recorded time:
#: (recorded, seq, occurred, customer, system, source id, fields in output order).
_Pending = tuple[int, int, int, int, str, str, dict[str, Any]]


class _Sim:
    """The running simulation: random stream, pending heap and small per-customer state."""

    def __init__(self, customers: int, days: int, seed: int, clock: _Clock) -> None:
        self.customers, self.days, self.seed, self.clock = customers, days, seed, clock
        self.rng = random.Random(seed)
        self.heap: list[_Pending] = []
        self.seq = 0
        self.episodes = 0
        self.end = clock.midnight(days)
        self.areas = max(1, min(len(_AREAS), customers // 25))
        self.grudges = bytearray(customers)  # bad experiences so far (capped at 255)

    def episode(self, customer: int, service: str) -> _Episode:
        self.episodes += 1
        return _Episode(self, customer, service, self.episodes)

    def push(
        self,
        *,
        recorded: int,
        occurred: int,
        customer: int,
        system: str,
        sid: str,
        fields: dict[str, Any],
    ) -> None:
        """Queue a drafted record; one recorded after the horizon never enters the feed."""
        if recorded < self.end:
            self.seq += 1
            heapq.heappush(self.heap, (recorded, self.seq, occurred, customer, system, sid, fields))

    def activity(self, customer: int) -> float:
        """How often this customer gets in touch relative to the average (a fixed trait)."""
        share = _mix(self.seed, customer, 2) % 1000
        for cutoff, level in _ACTIVITY:
            if share < cutoff:
                return level
            share -= cutoff
        return 1.0

    def pick_customer(self) -> int:
        """A customer drawn in proportion to activity (rejection sampling: no weight table)."""
        top = _ACTIVITY[-1][1]
        while True:
            customer = self.rng.randrange(self.customers)
            if self.rng.random() * top < self.activity(customer):
                return customer

    def grudge(self, customer: int) -> None:
        self.grudges[customer] = min(255, self.grudges[customer] + 1)

    def drain(self, until: int) -> Iterator[dict[str, Any]]:
        """Emit, in recorded order, every pending record recorded before ``until``."""
        while self.heap and self.heap[0][0] < until:
            yield self.materialise(heapq.heappop(self.heap))

    def materialise(self, pending: _Pending) -> dict[str, Any]:
        recorded, _, occurred, customer, system, sid, fields = pending
        record: dict[str, Any] = {
            "source": {"system": system, "event_id": sid},
            "customer": self.customer_block(customer, system, fields["channel"]),
            "occurred_at": self.clock.iso(occurred),
            "recorded_at": self.clock.iso(recorded),
        }
        record.update(fields)
        return record

    def customer_block(self, customer: int, system: str, channel: str) -> dict[str, str]:
        """The customer as the source system knows them (an IVR knows only the number)."""
        profile = _profile(self.seed, customer, self.area_name(customer))
        block = {"id": profile["id"]}
        known = _CRM_FIELDS if system == "crm" else _KNOWN_FIELDS.get(channel, _CRM_FIELDS)
        for key in known:
            block[key] = profile[key]
        return block

    def area(self, customer: int) -> int:
        return customer % self.areas

    def area_name(self, customer: int) -> str:
        return _AREAS[(self.area(customer) + self.seed) % len(_AREAS)]


@lru_cache(maxsize=4096)  # bounded: active customers repeat, memory stays flat
def _profile(seed: int, customer: int, area: str) -> dict[str, str]:
    """Fake but plausible personal data, a pure function of (seed, customer number)."""
    h = _mix(seed, customer)
    surname, given = _SURNAMES[h % 20], _GIVEN[(h >> 8) % len(_GIVEN)]
    number = (h >> 16) % 100_000_000
    mailbox = f"{given.lower()}.{surname.lower()}{(h >> 44) % 100}"
    return {
        "id": f"C{customer + 1:07d}",
        "name": f"{surname} {given}",
        "phone": f"+86 {_MOBILE_PREFIXES[(h >> 12) % 10]} {number // 10000:04d} "
        f"{number % 10000:04d}",
        "email": f"{mailbox}@{_MAIL_DOMAINS[(h >> 52) % 3]}",
        "account": f"PW{(h >> 20) % 10**10:010d}",
        "address": f"Room {(h >> 36) % 30 + 1}{(h >> 40) % 4 + 1:02d}, No. {(h >> 30) % 300 + 1} "
        f"{_STREETS[(h >> 24) % len(_STREETS)]}, {area} District",
        "social_handle": f"@{given.lower()}_{surname.lower()}{(h >> 48) % 90 + 10}",
    }


class _Episode:
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

    def __init__(self, sim: _Sim, customer: int, service: str, number: int) -> None:
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
        parent: _Ref | None = None,
        outcome: str | None = None,
    ) -> _Ref:
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
        parent: _Ref | None = None,
        contact: str | None = None,
        outcome: str | None = None,
        score: int | None = None,
        wait: int | None = None,
        handle: int | None = None,
        text: str | None = None,
        attributes: dict[str, str] | None = None,
    ) -> _Ref:
        """Draft one record; returns its reference (for a later record's ``parent``)."""
        self.step += 1
        system, channel = self._route(kind, channel)
        sid = f"s{self.sim.seed}-e{self.number}-{self.step}"
        default_actor, default_direction = _PROVIDER_DEFAULTS.get(kind, ("customer", "inbound"))
        who: dict[str, str] = {"type": actor or default_actor}
        if actor_id is not None:
            who["id"] = actor_id
        direction = direction or default_direction
        fields: dict[str, Any] = {
            "channel": channel,
            "direction": direction,
            "actor": who,
            "kind": kind,
            "service_type": self.service,
        }
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
        if self.origin is None and kind in _REQUEST_KINDS:
            self.origin = channel
        return _SYSTEMS[channel], channel

    def words(self, key: str | None = None) -> str:
        return _pick(self.rng, _WORDS[key or self.service])

    def note(self, key: str) -> str:
        """An agent's note: the service-specific wording when there is one."""
        return _pick(self.rng, _NOTES.get(f"{key}:{self.service}") or _NOTES[key])

    def agent(self) -> str:
        return f"A{self.rng.randint(1, 80):03d}"

    def technician(self) -> str:
        return f"T{self.rng.randint(1, 40):03d}"


# --------------------------------------------------------------------------- building blocks

_IVR_PATHS = {
    "billing": "1>2>1",
    "payment": "1>2>3",
    "outage": "1>1",
    "meter": "1>4>2",
    "tariff": "1>3>2",
    "repair": "2>1",
    "new_connection": "3>1",
}


def _ivr(ep: _Episode, t: int, contact: str, *, to_agent: bool) -> int:
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


def _call(
    ep: _Episode, t: int, kind: str, outcome: str, *, text: str, busy: bool = False
) -> tuple[int, _Ref]:
    """An inbound call: IVR (usually), the customer's request, the agent's handling.

    Returns (end of call, id of the ``contact_handled`` record).
    """
    contact = ep.contact()
    if ep.rng.random() < 0.7:
        t = _ivr(ep, t, contact, to_agent=True)
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


def _survey(ep: _Episode, t: int, quality: str, parent: _Ref) -> None:
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
    text = _pick(rng, _FEEDBACK_WORDS[score]) if rng.random() < 0.5 else None
    ep.add(
        sent + rng.randint(60, 4 * 3600),
        "feedback",
        "sms",
        parent=survey,
        score=score,
        text=text,
        attributes={"survey": "csat"},
    )


def _open_case(ep: _Episode, t: int, parent: _Ref) -> tuple[int, _Ref]:
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


def _close_case(ep: _Episode, t: int, parent: _Ref) -> _Ref:
    """case_resolved, then case_closed after the customer's confirmation period (2-3 days)."""
    resolved = ep.agent_step(t, "case_resolved", "phone", parent=parent, outcome="resolved")
    ep.add(
        t + ep.rng.randint(2 * _DAY, 3 * _DAY),
        "case_closed",
        "phone",
        parent=resolved,
        outcome="resolved",
        text=ep.note("case_closed"),
    )
    return resolved


def _visit(
    ep: _Episode, slot: tuple[int, int], parent: _Ref, *, resolves: bool
) -> tuple[int, _Ref]:
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


def _dispatch(ep: _Episode, t: int, parent: _Ref) -> tuple[tuple[int, int], _Ref]:
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


# --------------------------------------------------------------------------- scenarios


def _ivr_self_service(ep: _Episode, t: int) -> None:
    """Balance, payment or outage status in the IVR; one caller in six then asks for an agent."""
    if ep.rng.random() < 0.83:
        _ivr(ep, t, ep.contact(), to_agent=False)
    else:
        end, handled = _call(ep, t, "inquiry", "resolved", text=ep.words())
        _survey(ep, end, "good", handled)


_PAGES = {
    "payment": "/home>/bill>/pay",
    "billing": "/home>/bill>/bill/history",
    "tariff": "/home>/tariffs>/tariffs/time-of-use",
    "meter": "/home>/usage>/usage/daily",
}


def _digital_self_service(ep: _Episode, t: int) -> None:
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


def _inquiry_call(ep: _Episode, t: int) -> None:
    """A plain question answered on the first call (the bulk of a hotline's traffic)."""
    outcome = "resolved" if ep.rng.random() < 0.9 else "unresolved"
    end, handled = _call(ep, t, "inquiry", outcome, text=ep.words())
    _survey(ep, end, "good" if outcome == "resolved" else "fair", handled)


def _callback(ep: _Episode, t: int) -> None:
    """A callback promised on the call; usually made, sometimes late, sometimes never."""
    end, handled = _call(ep, t, "inquiry", "promised", text=ep.words())
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


def _callback_made(ep: _Episode, end: int, promise: _Ref, *, in_window: bool) -> None:
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
    _survey(ep, when, "good" if answered else "fair", callback)


def _callback_forgotten(ep: _Episode, due: int, promise: _Ref) -> None:
    """Nobody calls back; many customers chase it and complain."""
    ep.sim.grudge(ep.customer)
    if ep.rng.random() < 0.6:
        again = due + ep.rng.randint(3600, 2 * _DAY)
        end, handled = _call(ep, again, "complaint", "escalated", text=ep.words("no_callback"))
        _, assigned = _open_case(ep, end, handled)
        _close_case(ep, end + ep.rng.randint(3600, _DAY), assigned)
        _survey(ep, end + _DAY, "poor", handled)


def _fault_report(ep: _Episode, t: int) -> tuple[int, _Ref]:
    """The customer reports the fault by phone or in the app; returns (time, record id)."""
    if ep.rng.random() < 0.65:
        return _call(ep, t, "report", "pending", text=ep.words())
    report = ep.add(
        t,
        "report",
        "app",
        contact=ep.contact(),
        text=ep.words(),
        attributes={"photo": "yes" if ep.rng.random() < 0.4 else "no"},
    )
    return t + 60, report


def _repair(ep: _Episode, t: int) -> None:
    """Fault → case → dispatch → a visit, or a missed appointment the customer complains about."""
    end, report = _fault_report(ep, t)
    at, assigned = _open_case(ep, end, report)
    slot, dispatch = _dispatch(ep, at, assigned)
    if ep.rng.random() < 0.22:
        _missed_appointment(ep, slot, dispatch)
        return
    resolves = ep.rng.random() < 0.85
    synced, visit = _visit(ep, slot, dispatch, resolves=resolves)
    if not resolves:
        slot, dispatch = _dispatch(ep, synced, visit)
        synced, visit = _visit(ep, slot, dispatch, resolves=True)
    resolved = _close_case(ep, synced + ep.rng.randint(600, 4 * 3600), visit)
    _survey(ep, synced + 3600, "good" if resolves else "fair", resolved)


def _missed_appointment(ep: _Episode, slot: tuple[int, int], dispatch: _Ref) -> None:
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
    end, _ = _call(
        ep,
        slot[1] + ep.rng.randint(1200, 5 * 3600),
        "complaint",
        "escalated",
        text=ep.words("missed"),
    )
    escalated = ep.agent_step(
        end + 60, "case_escalated", "phone", parent=missed, outcome="escalated"
    )
    slot, dispatch = _dispatch(ep, end, escalated)
    synced, visit = _visit(ep, slot, dispatch, resolves=True)
    resolved = _close_case(ep, synced + 1800, visit)
    _survey(ep, synced + 3600, "poor", resolved)


def _repeat_unresolved(ep: _Episode, t: int) -> None:
    """Three to five calls about one issue within a week before anyone owns it."""
    text = ep.words()
    for _ in range(ep.rng.randint(2, 4)):
        end = _call(ep, t, "inquiry", "unresolved", text=text)[0]
        t = ep.sim.clock.contact_time(_day_index(ep, end) + ep.rng.randint(1, 2), ep.rng)
        text = ep.words("repeat")
    t, handled = _call(ep, t, "complaint", "escalated", text=text)
    ep.sim.grudge(ep.customer)
    _, assigned = _open_case(ep, t, handled)
    escalated = ep.agent_step(
        t + 3600, "case_escalated", "phone", parent=assigned, outcome="escalated"
    )
    resolved = _close_case(ep, t + ep.rng.randint(_DAY, 3 * _DAY), escalated)
    _survey(ep, t + 3 * _DAY, "poor", resolved)


def _day_index(ep: _Episode, ts: int) -> int:
    return (ep.sim.clock.local(ts).date() - ep.sim.clock.start).days


def _channel_hop(ep: _Episode, t: int) -> None:
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
    end, handled = _call(
        ep,
        chat_at + ep.rng.randint(2 * 3600, 40 * 3600),
        "inquiry",
        "resolved",
        text=ep.words("repeat"),
    )
    _survey(ep, end, "fair", handled)


def _complaint_case(ep: _Episode, t: int) -> None:
    """A written complaint handled as a case; one in seven is reopened after closing."""
    channel = _pick(ep.rng, ("social", "email", "app", "web"))
    complaint = ep.add(t, "complaint", channel, contact=ep.contact(), text=ep.words())
    reply_at = ep.sim.clock.next_permitted(t + 1800, ep.rng)
    at, assigned = _open_case(ep, reply_at, complaint)
    if ep.rng.random() < 0.35:
        assigned = ep.agent_step(
            at + 3600, "case_escalated", "phone", parent=assigned, outcome="escalated"
        )
    fixed = at + ep.rng.randint(_DAY, 5 * _DAY)
    resolved = _close_case(ep, fixed, assigned)
    ep.add(
        ep.sim.clock.next_permitted(fixed + 300, ep.rng),
        "notification_sent",
        "email" if channel == "email" else "sms",
        parent=resolved,
        outcome="resolved",
        text="[Power] Your case has been resolved.",
    )
    if ep.rng.random() < 0.15:
        _reopen(ep, fixed + ep.rng.randint(_DAY, 2 * _DAY), resolved)
    else:
        _survey(ep, fixed + 600, "fair", resolved)


def _reopen(ep: _Episode, t: int, resolved: _Ref) -> None:
    end, _ = _call(ep, t, "complaint", "escalated", text=ep.words("reopen"))
    reopened = ep.agent_step(
        end + 120, "case_reopened", "phone", parent=resolved, outcome="pending"
    )
    again = _close_case(ep, end + ep.rng.randint(_DAY, 3 * _DAY), reopened)
    _survey(ep, end + 3 * _DAY, "poor", again)


def _new_connection(ep: _Episode, t: int) -> None:
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
    at, assigned = _open_case(ep, t + wait + handle, handled)
    slot, dispatch = _dispatch(ep, at, assigned)
    synced, visit = _visit(ep, slot, dispatch, resolves=True)
    resolved = _close_case(ep, synced + 3600, visit)
    ep.add(
        ep.sim.clock.next_permitted(synced + 7200, ep.rng),
        "notification_sent",
        "letter",
        parent=resolved,
        outcome="resolved",
        text="Your new connection is live. Account details enclosed.",
    )
    _survey(ep, synced + 7200, "good", resolved)


def _letter(ep: _Episode, t: int) -> None:
    """A letter written today, scanned days later: a late arrival that opens a case."""
    scanned_after = ep.rng.randint(2 * _DAY, 6 * _DAY)
    letter = ep.add(t, "complaint", "letter", delay=scanned_after, text=ep.words())
    at, assigned = _open_case(ep, t + scanned_after + 3600, letter)
    resolved = _close_case(ep, at + ep.rng.randint(_DAY, 4 * _DAY), assigned)
    ep.add(
        ep.sim.clock.next_permitted(at + 4 * _DAY, ep.rng),
        "notification_sent",
        "letter",
        parent=resolved,
        outcome="resolved",
        text="Reply to your letter: we have reviewed your account.",
    )


def _suggestion(ep: _Episode, t: int) -> None:
    """An app suggestion and its automatic acknowledgement."""
    idea = ep.add(t, "suggestion", "app", contact=ep.contact(), text=ep.words())
    ep.add(t + 5, "notification_sent", "app", parent=idea, text="Thank you for your suggestion.")


def _email_inquiry(ep: _Episode, t: int) -> None:
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
    _survey(ep, reply + handle, "good", handled)


Scenario = Callable[[_Episode, int], None]

#: scenario → (relative weight, plausible service types, the scenario).
_SCENARIOS: dict[str, tuple[float, tuple[str, ...], Scenario]] = {
    "ivr_self_service": (18, ("billing", "payment", "outage", "meter"), _ivr_self_service),
    "digital_self_service": (14, ("payment", "billing", "tariff", "meter"), _digital_self_service),
    "inquiry_call": (
        20,
        ("billing", "tariff", "meter", "payment", "new_connection"),
        _inquiry_call,
    ),
    "callback": (8, ("billing", "meter", "tariff", "payment"), _callback),
    "repair": (10, ("repair", "repair", "meter"), _repair),
    "repeat_unresolved": (4, ("billing", "meter", "repair"), _repeat_unresolved),
    "channel_hop": (6, ("billing", "tariff", "payment", "new_connection"), _channel_hop),
    "complaint_case": (6, ("billing", "complaint_handling", "meter"), _complaint_case),
    "new_connection": (3, ("new_connection",), _new_connection),
    "letter": (2, ("billing", "complaint_handling", "tariff"), _letter),
    "suggestion": (3, ("app_service",), _suggestion),
    "email_inquiry": (4, ("billing", "tariff", "new_connection"), _email_inquiry),
}
_SCENARIO_NAMES = tuple(_SCENARIOS)
_SCENARIO_CUM = tuple(accumulate(weight for weight, _, _ in _SCENARIOS.values()))


# --------------------------------------------------------------------------- daily drivers


def _episodes(sim: _Sim, day: int) -> None:
    """Today's new issues: a Poisson number of customers, fewer at weekends."""
    rng = sim.rng
    weekend = sim.clock.date_of(day).weekday() >= 5
    for _ in range(_poisson(rng, sim.customers * EPISODE_RATE * (0.7 if weekend else 1.0))):
        name = rng.choices(_SCENARIO_NAMES, cum_weights=_SCENARIO_CUM)[0]
        _, services, scenario = _SCENARIOS[name]
        ep = sim.episode(sim.pick_customer(), _pick(rng, services))
        scenario(ep, sim.clock.contact_time(day, rng))


def _reminders(sim: _Sim, day: int) -> None:
    """Bill, meter-reading and tariff reminders: in the windows on weekdays, with violations."""
    rng, clock = sim.rng, sim.clock
    weekend = clock.date_of(day).weekday() >= 5
    share = REMINDER_VIOLATION_SHARE * 0.5 if weekend else 1.0
    for _ in range(_poisson(rng, sim.customers * REMINDER_RATE * share)):
        service = _pick(rng, tuple(_REMINDERS))
        ep = sim.episode(sim.pick_customer(), service)
        violates = weekend or rng.random() < REMINDER_VIOLATION_SHARE
        when = clock.off_hours(day, rng) if violates else clock.in_window(day, rng)
        channel = "sms" if rng.random() < 0.8 else "phone"
        text = _REMINDERS[service].format(
            amount=f"{rng.uniform(40, 600):.2f}", day=clock.date_of(day + 3).isoformat()
        )
        ep.add(
            when,
            "notification_sent",
            channel,
            text=text,
            attributes={"campaign": f"{service}_reminder"},
        )


def _campaign_calls(sim: _Sim, day: int) -> None:
    """Agents' outbound campaign calls: for a customer silent for long, a compliance signal.

    Campaign lists are drawn uniformly, not by activity, so some calls reach one of the many
    quiet customers (see :data:`_ACTIVITY`) after months without contact: a first contact after
    a long silence by a real-time channel, which should have been an SMS or e-mail.
    """
    rng, clock = sim.rng, sim.clock
    if clock.date_of(day).weekday() >= 5:
        return
    for _ in range(_poisson(rng, sim.customers * CAMPAIGN_CALL_RATE)):
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


def _outage(sim: _Sim, day: int) -> None:
    """An area loses power: notices to everyone there, a burst of calls, IVR and app reports."""
    rng, clock = sim.rng, sim.clock
    area = rng.randrange(sim.areas)
    start = clock.midnight(day) + rng.randrange(_DAY)
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


def _outage_contact(ep: _Episode, t: int) -> None:
    roll = ep.rng.random()
    if roll < 0.5:
        _ivr(ep, t, ep.contact(), to_agent=False)
    elif roll < 0.75:
        ep.add(t, "report", "app", contact=ep.contact(), text=ep.words())
    else:
        _call(ep, t, "report", "resolved", text=ep.words(), busy=True)


def _simulate(sim: _Sim) -> Iterator[dict[str, Any]]:
    """Walk the days: draft today's activity, then release what was recorded today."""
    forced_outage = sim.rng.randrange(min(sim.days, 7))
    for day in range(sim.days):
        _episodes(sim, day)
        _reminders(sim, day)
        _campaign_calls(sim, day)
        if day == forced_outage or sim.rng.random() < OUTAGE_RATE:
            _outage(sim, day)
        yield from sim.drain(sim.clock.midnight(day + 1))


# --------------------------------------------------------------------------- public API


def generate(
    customers: int, days: int, seed: int, start: date = DEFAULT_START, tz: str = DEFAULT_TZ
) -> Iterator[dict[str, Any]]:
    """Submitted records (the shape :class:`events.intake.Intake` takes) in recorded order.

    ``customers`` customers over ``days`` days from local midnight of ``start`` in ``tz``;
    the same arguments always give the same records. Streams: memory holds only the records
    still pending (follow-ups due later) and a few bytes per customer.
    """
    if customers < 1 or days < 1:
        raise ValueError("customers and days must both be at least 1")
    sim = _Sim(customers, days, seed, _Clock(start, ZoneInfo(tz)))
    return _simulate(sim)


def dumps_record(record: dict[str, Any]) -> str:
    """One NDJSON line (without the newline): compact, UTF-8, keys in the generator's order."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def write_ndjson(
    out: TextIO,
    customers: int,
    days: int,
    seed: int,
    *,
    start: date = DEFAULT_START,
    tz: str = DEFAULT_TZ,
) -> int:
    """Write the feed as NDJSON to ``out``; returns how many records were written."""
    count = 0
    for record in generate(customers, days, seed, start, tz):
        out.write(dumps_record(record))
        out.write("\n")
        count += 1
    return count
