"""Local time for the simulation: working hours, do-not-disturb windows, appointments.

Why epoch seconds: records are ordered and compared as integers (UTC epoch seconds), which
order correctly across DST changes, while every *choice* of a time (contact hours, permitted
windows, appointment slots) is made in the customer's local wall-clock time. :class:`Clock`
is the one place that converts between the two.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

#: Seconds in a day (a nominal day: durations, not calendar arithmetic).
DAY = 86400
_WINDOWS = ((9 * 60 + 30, 12 * 60), (14 * 60, 17 * 60 + 30))  # minutes of the day, local time

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


class Clock:
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
