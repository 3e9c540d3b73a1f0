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
  golden-file tests can therefore be regenerated instead of stored. The corollary for anyone
  editing the package: the *order* of random draws is part of the output.
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
  small function in :data:`.scenarios.SCENARIOS`, picked by weight.

The modules, from the bottom up: :mod:`.randomness` (deterministic draws), :mod:`.customers`,
:mod:`.systems` and :mod:`.vocabulary` (static data), :mod:`.clock` (local time),
:mod:`.episode` (drafting records), :mod:`.simulation` (pending heap and shared state),
:mod:`.blocks`, :mod:`.scenarios` and :mod:`.casework` (what happens), :mod:`.daily` (what
happens on one day) and :mod:`.stream` (the feed). Only the names in ``__all__`` are the API.
"""

from __future__ import annotations

from .stream import DEFAULT_START, DEFAULT_TZ, dumps_record, generate, write_ndjson

__all__ = ["DEFAULT_START", "DEFAULT_TZ", "dumps_record", "generate", "write_ndjson"]
