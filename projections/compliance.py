"""Contact-policy compliance: outbound touchpoints checked against the do-not-disturb rules.

Pure domain code over one customer's facts in event-time order. Two rules (DESIGN.md, "Do not
disturb"), both configured by :class:`~projections.policy.ContactPolicy`:

* ``dnd_window``: an outbound contact outside the permitted local windows (working days
  09:30-12:00 and 14:00-17:30 by default), on a weekend or on a holiday. Service-critical kinds
  (outage notices, booked field visits) and channels that do not reach a person when sent
  (letters) are exempt.
* ``silence_real_time``: the first contact after ``silence_days`` or more without any contact
  is an outbound contact on a real-time channel (a call). After a long silence the organisation
  must open with a message the customer can take up when it suits them.

"Local" is the customer's time zone: the ``customer_tz`` attribute a source reported, else the
policy's zone, else (policy ``timezone = "local"``) the UTC offset the touchpoint was recorded
with. Only event time is used, so the same log always yields the same violations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from projections.facts import DAY_US, Fact
from projections.policy import ContactPolicy

__all__ = [
    "DND_WINDOW",
    "SILENCE_REAL_TIME",
    "ComplianceFold",
    "Violation",
    "violations_of",
]

DND_WINDOW = "dnd_window"
SILENCE_REAL_TIME = "silence_real_time"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Violation:
    """One outbound touchpoint breaking one rule, with the local time it happened at."""

    event_id: str
    customer_id: str
    rule: str
    occurred_at: int
    local_time: str
    channel: str
    kind: str
    detail: str


@lru_cache(maxsize=256)
def _zone(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None  # a source's unknown zone falls back to the policy's, never fails a fold


@lru_cache(maxsize=64)
def _fixed(offset_minutes: int) -> tzinfo:
    return timezone(timedelta(minutes=offset_minutes))


def _local(fact: Fact, policy: ContactPolicy, reported_tz: str | None) -> datetime:
    zone = _zone(reported_tz) if reported_tz else None
    if zone is None and policy.timezone != "local":
        zone = _zone(policy.timezone)
    if zone is None:
        zone = _fixed(fact.offset_minutes)
    return (_EPOCH + timedelta(microseconds=fact.occurred)).astimezone(zone)


def _outside_window(moment: datetime, policy: ContactPolicy) -> str | None:
    """Why ``moment`` (local) is outside the permitted windows, or ``None`` when it is inside."""
    if moment.isoweekday() not in policy.working_days:
        return f"{moment:%A} is not a working day"
    if moment.date() in policy.holidays:
        return f"{moment:%Y-%m-%d} is a holiday"
    clock = moment.time().replace(tzinfo=None)
    if any(window.start <= clock < window.end for window in policy.windows):
        return None
    spans = ", ".join(f"{w.start:%H:%M}-{w.end:%H:%M}" for w in policy.windows)
    return f"{clock:%H:%M} local is outside {spans}"


def violations_of(facts: Sequence[Fact], policy: ContactPolicy) -> list[Violation]:
    """The violations among one customer's ``facts`` (event-time order), in that order."""
    return ComplianceFold(policy).violations(facts)


class ComplianceFold:
    """:func:`violations_of` for one customer, kept between calls: when the history only grew
    at the end, only the new facts are checked (each verdict depends on the fact, the contact
    before it and the customer's reported zone, all known by then); otherwise it starts over."""

    def __init__(self, policy: ContactPolicy) -> None:
        self._policy = policy
        self._silence = round(policy.silence_days * DAY_US)
        self._restart()

    def _restart(self) -> None:
        self._found: list[Violation] = []
        self._last_contact: int | None = None
        self._reported_tz: str | None = None
        self._fed = 0
        self._last: Fact | None = None

    def violations(self, facts: Sequence[Fact]) -> list[Violation]:
        fed = self._fed
        if not (fed and len(facts) >= fed and facts[fed - 1] is self._last):
            self._restart()
            fed = 0
        policy = self._policy
        for fact in facts[fed:]:
            self._reported_tz = fact.customer_tz or self._reported_tz
            if fact.direction == "outbound" and fact.kind not in policy.exempt_kinds:
                self._found.extend(
                    _check(fact, policy, self._reported_tz, self._last_contact, self._silence)
                )
            if fact.direction != "internal":
                self._last_contact = fact.occurred
        self._fed = len(facts)
        self._last = facts[-1] if facts else None
        return list(self._found)


def _check(
    fact: Fact, policy: ContactPolicy, reported_tz: str | None, last: int | None, silence: int
) -> list[Violation]:
    local = _local(fact, policy, reported_tz)
    found = []
    why = None if fact.channel in policy.exempt_channels else _outside_window(local, policy)
    if why is not None:
        found.append(_violation(fact, DND_WINDOW, local, why))
    if (
        fact.channel in policy.real_time_channels
        and last is not None
        and fact.occurred - last >= silence
    ):
        days = (fact.occurred - last) // DAY_US
        detail = f"first contact after {days} days of silence is a real-time {fact.channel} contact"
        found.append(_violation(fact, SILENCE_REAL_TIME, local, detail))
    return found


def _violation(fact: Fact, rule: str, local: datetime, detail: str) -> Violation:
    stamp = local.strftime("%Y-%m-%d %H:%M %a UTC%z")  # only for violations: strftime is slow
    return Violation(
        fact.event_id, fact.customer_id, rule, fact.occurred, stamp, fact.channel, fact.kind, detail
    )
