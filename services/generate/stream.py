"""The feed itself: walking the days and streaming records out, as objects or NDJSON.

Why it is small: everything else drafts records; this module only fixes the order of the
daily drivers (which fixes the order of random draws, hence the bytes) and turns the stream
into the public API.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from .clock import Clock
from .daily import (
    OUTAGE_RATE,
    area_outage,
    campaign_calls,
    send_reminders,
    start_episodes,
)
from .simulation import Simulation

DEFAULT_START = date(2026, 1, 5)
DEFAULT_TZ = "Asia/Shanghai"


def _simulate(sim: Simulation) -> Iterator[dict[str, Any]]:
    """Walk the days: draft today's activity, then release what was recorded today."""
    forced_outage = sim.rng.randrange(min(sim.days, 7))
    for day in range(sim.days):
        start_episodes(sim, day)
        send_reminders(sim, day)
        campaign_calls(sim, day)
        if day == forced_outage or sim.rng.random() < OUTAGE_RATE:
            area_outage(sim, day)
        yield from sim.drain(sim.clock.midnight(day + 1))


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
    sim = Simulation(customers, days, seed, Clock(start, ZoneInfo(tz)))
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
