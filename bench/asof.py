"""As-of benchmark: ``journey CUSTOMER --as-of T`` for a customer with 5,000 touchpoints among
about a million, and the step-through of the same journey.

Prints one JSON document. The journey table (the real ClickHouse engine, chdb) holds
``--background`` rows of other customers (200,000 customers with five touchpoints each,
inserted by ClickHouse itself from ``numbers()``) and one customer, ``BENCH``, with
``--touchpoints`` real touchpoints: generated customers' journeys (services.generate) re-keyed
to ``BENCH`` and laid end to end in time (``--layout spread``: a long-lived customer, 30 days
per generated customer) or all within the same 30 days (``--layout dense``: thousands of
contacts, complaints and warnings a month, the rules' worst case). They go through the Avro
serde and the journey view's own write path. Production decisions for ``BENCH`` (the pure rules
applied to an in-memory :class:`DecisionsApp`) are linked by id, as the command does.

Measured, ``--runs`` times at T = the end of the history and at T = its middle (p50, p95), not
the CLI process start: :func:`services.asof.reconstruct_at`, the reconstruction (the ClickHouse
read of the customer's facts, the known / late split, the risk rules at stream time T and the
state in force: flags, alerts, the warning the agent saw), target p95 < 200 ms; and
:func:`services.asof.journey_as_of`, the whole ``--json`` document (plus every known
touchpoint's row read and masked, the scenes at T, the production workflow look-ups). Then the
step-through: every step's state, and every step's JSON.

Usage: ``python bench/asof.py [--touchpoints 5000] [--background 1000000] [--layout spread]``
"""

# The project imports follow the import-path fix below, on purpose.
# ruff: noqa: E402
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# ``bench/projections.py`` is named like the package: keep this directory off the import path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

from events.identity import IdentifierHasher
from events.intake import Intake
from events.keys.memory import MemoryKeyStore
from events.log import Entry
from events.log.memory import MemoryEventLog
from events.personal import PersonalVault
from events.touchpoint import Touchpoint
from projections.clickhouse import ViewStore, connect
from projections.policy import ProjectionConfig
from projections.risk import RuleSet, assess
from projections.views.journey_view import JourneyView
from schemas.serde import TouchpointSerde
from services.asof import Sources, journey_as_of, read_history, reconstruct_at
from services.decisions import DecisionsApp
from services.generate import generate
from services.replay_view import replay_steps, step_json

CUSTOMER = "BENCH"
BASE_TIME = datetime(2026, 1, 5, tzinfo=UTC)


def bench_touchpoints(count: int, layout: str, vault: PersonalVault) -> list[Touchpoint]:
    intake = Intake(IdentifierHasher(b"b" * 16), vault, lambda: BASE_TIME)
    found: list[Touchpoint] = []
    customers = max(1, count // 10)
    while len(found) < count:
        found.clear()
        order: dict[str, int] = {}
        for record in generate(customers, 30, 17):
            tp = intake.touchpoint(record)
            index = order.setdefault(tp.customer_id, len(order))
            shift = timedelta(days=30 * index) if layout == "spread" else timedelta(0)
            found.append(
                tp.model_copy(
                    update={
                        "customer_id": CUSTOMER,
                        "occurred_at": tp.occurred_at + shift,
                        "recorded_at": tp.recorded_at + shift,
                    }
                )
            )
        customers *= 2
    found.sort(key=lambda tp: tp.recorded_at)
    return found[:count]


def fill(store: ViewStore, touchpoints: list[Touchpoint], background: int) -> JourneyView:
    journey = JourneyView(store)
    journey.ensure()
    chunk = 250_000
    for start in range(0, background, chunk):
        rows = min(chunk, background - start)
        store.command(
            f"INSERT INTO {journey.table} (customer_id, occurred_at, occurred_offset_minutes, "
            "recorded_at, event_id, partition, position, source_system, channel, direction, "
            "actor_type, kind, service_type, attachments) "
            f"SELECT concat('B', leftPad(toString(number % 200000), 7, '0')), "
            f"fromUnixTimestamp64Micro(toInt64(1767225600000000 + number * 2000000), 'UTC'), "
            f"480, fromUnixTimestamp64Micro(toInt64(1767225600000000 + number * 2000000), 'UTC'), "
            f"generateUUIDv4(number), 1, number, 'bench', 'phone', 'inbound', 'customer', "
            f"'inquiry', 'billing', '[]' FROM numbers({start}, {rows})"
        )
    serde = TouchpointSerde()
    log = MemoryEventLog(partitions=1)
    log.append([Entry(str(tp.event_id), tp.customer_id, serde.encode(tp)) for tp in touchpoints])
    records = list(log.read_all(0))
    assert not journey.write(records), "every bench touchpoint decodes"
    return journey


def timed(call: Callable[[], Any], runs: int) -> dict[str, float]:
    call()  # warm caches (first query plans, imports)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, round(0.95 * len(times)) - 1)], 1),
        "max_ms": round(times[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--touchpoints", type=int, default=5000)
    parser.add_argument("--background", type=int, default=1_000_000)
    parser.add_argument("--layout", choices=["spread", "dense"], default="spread")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()

    vault = PersonalVault(MemoryKeyStore())
    rules, config = RuleSet(), ProjectionConfig()
    with tempfile.TemporaryDirectory() as tmp:
        store = ViewStore(connect(None, Path(tmp) / "chdb"), "bench_asof")
        store.ensure()
        started = time.perf_counter()
        touchpoints = bench_touchpoints(args.touchpoints, args.layout, vault)
        journey = fill(store, touchpoints, args.background)
        loaded = time.perf_counter() - started

        facts = read_history(journey, CUSTOMER).facts
        end = max(f.recorded for f in facts)
        decisions = assess(list(facts), rules, config, end).decisions
        app = DecisionsApp("memory:")
        app.record(decisions)
        sources = Sources(journey, vault, rules, config, app)
        middle = facts[len(facts) // 2].occurred

        data = journey_as_of(sources, CUSTOMER, end)
        assert data is not None
        result: dict[str, Any] = {
            "rows": int(store.scalar(f"SELECT count() FROM {journey.table}")),
            "customer_touchpoints": len(facts),
            "layout": args.layout,
            "load_seconds": round(loaded, 1),
            "decisions": len(decisions),
            "alerts_at_end": len(data["risk"]["alerts"]),
            "warnings_at_end": len(data["risk"]["agent_warnings"]["issued"]),
            "runs": args.runs,
            "reconstruct_at_end": timed(lambda: reconstruct_at(sources, CUSTOMER, end), args.runs),
            "reconstruct_at_middle": timed(
                lambda: reconstruct_at(sources, CUSTOMER, middle), args.runs
            ),
            "journey_as_of_end": timed(lambda: journey_as_of(sources, CUSTOMER, end), args.runs),
            "journey_as_of_middle": timed(
                lambda: journey_as_of(sources, CUSTOMER, middle), args.runs
            ),
            "read_only": timed(lambda: read_history(journey, CUSTOMER, end), args.runs),
        }
        started = time.perf_counter()
        replay = replay_steps(sources, CUSTOMER)
        result["replay_steps_seconds"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        for step in replay.steps:
            step_json(replay, step, sources)
        result["replay_json_seconds"] = round(time.perf_counter() - started, 2)
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
