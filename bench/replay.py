"""Replay benchmark: a full rebuild against the first build, and as-of reconstruction latency.

Prints one JSON document. Each stage runs in a fresh subprocess (chdb opens one data directory
per process), against the same embedded log of generated touchpoints, to which one customer
with ``--heavy`` touchpoints is added (every touchpoint of a few dozen generated customers,
given to one customer id: a customer who calls, writes and complains every few hours):

* ``first_build``: what ``servicetrace project`` does on a fresh data directory: the projector
  from position 0 into every view, then the risk engine over the whole journey;
* ``rebuild``: ``servicetrace rebuild`` (all): the log from position 0 into shadow views,
  swapped in, then the risk engine from position 0 into a shadow decision store, compared
  with production by decision id (``identical`` must be true);
* ``as_of``: the as-of reconstruction of the heavy customer (known touchpoints, late
  arrivals, scenes and the risk state in force) at ``--moments`` moments spread over its
  history, after one warm-up: p50 / p95 / max in ms; beside it the whole ``journey --as-of
  --json`` document (5,000 rows decoded and masked, production alert workflow linked).

Targets (issue 5, 2-core machine): the rebuild of 1M events reported in events/s against the
first build (the ratio is the figure: a rebuild does the same work plus the swap and the
comparison); as-of reconstruction of a customer with 5,000 events among 1M: p95 < 200 ms.

Usage: ``python bench/replay.py [--events 1000000] [--heavy 5000] [--moments 40]
[--workdir DIR]``; with ``--workdir`` the generated log is kept and reused by later runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

# This script lives beside modules named like the packages it measures: keep its directory
# off the import path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

TARGET_AS_OF_P95_MS = 200
PARTITIONS = 6
BATCH = 50_000
HEAVY = "C-HEAVY"
SEED = 3


def _settings(home: Path) -> Any:
    from services.settings import Settings

    return Settings(
        home=home,
        partitions=PARTITIONS,
        pepper="bench-pepper-0123456789",
        projection_batch_size=BATCH,
    )


def _heavy_records(count: int) -> Iterator[dict[str, Any]]:
    """``count`` generated touchpoints, all given to one customer (fresh source ids)."""
    from services.generate import generate

    for record in islice(generate(customers=40, days=400, seed=SEED + 1), count):
        record["customer"] = {"id": HEAVY, "name": "Heavy Caller", "phone": "+86 130 0000 0000"}
        record["source"] = {**record["source"], "event_id": f"heavy-{record['source']['event_id']}"}
        yield record


def prepare(home: Path, events: int, heavy: int) -> dict[str, Any]:
    """Generate ``events`` touchpoints (``heavy`` of them the heavy customer's) and ingest them
    into the embedded log (once per work directory)."""
    from services.generate import dumps_record, generate
    from services.ingest.runner import ingest_file
    from services.platform import Platform

    marker = home / "prepared.json"
    if marker.exists():
        return dict(json.loads(marker.read_text()))
    home.mkdir(parents=True, exist_ok=True)
    data = home / "touchpoints.ndjson"
    customers = max(50, events // 200)
    with data.open("w", encoding="utf-8") as out:
        for record in islice(generate(customers=customers, days=400, seed=SEED), events - heavy):
            out.write(dumps_record(record) + "\n")
        for record in _heavy_records(heavy):
            out.write(dumps_record(record) + "\n")
    started = time.perf_counter()
    with Platform(_settings(home)) as platform_:
        summary = ingest_file(platform_, data, "ndjson", None).to_json()
    facts = {
        "events": summary["touchpoints"]["appended"],
        "customers": customers + 1,
        "heavy_customer": HEAVY,
        "heavy_events": heavy,
        "ingest_seconds": round(time.perf_counter() - started, 1),
    }
    data.unlink()
    marker.write_text(json.dumps(facts))
    return facts


def first_build(home: Path) -> dict[str, Any]:
    """The projector and the risk engine from position 0 on a fresh data directory."""
    from services.platform import Platform

    shutil.rmtree(home / "clickhouse", ignore_errors=True)
    (home / "decisions.sqlite").unlink(missing_ok=True)
    with Platform(_settings(home)) as platform_:
        started = time.perf_counter()
        stats = platform_.projector.run_once()
        views = time.perf_counter() - started
        started = time.perf_counter()
        risk = platform_.risk_engine.run_once()
        decided = time.perf_counter() - started
    return {
        "views": _rate(stats.events, views),
        "risk": {**_rate(risk.facts, decided), "decisions": len(risk.applied)},
        **_total(stats.events, views + decided),
    }


def rebuild(home: Path) -> dict[str, Any]:
    """``servicetrace rebuild`` of everything over the first build's data directory."""
    from services.platform import Platform
    from services.rebuild import rebuild as run

    with Platform(_settings(home)) as platform_:
        started = time.perf_counter()
        report = run(platform_, ["all"])
        elapsed = time.perf_counter() - started
    views, risk = report["views"], report["risk"]
    return {
        "views": _rate(views["events"], views["seconds"]),
        "risk": {
            **_rate(risk["facts"], risk["seconds"]),
            "decisions": risk["rebuilt_decisions"],
            "identical": risk["identical"],
        },
        "swapped": views["swapped"],
        **_total(views["events"], elapsed),
    }


def as_of(home: Path, moments: int) -> dict[str, Any]:
    """As-of reconstructions of the heavy customer at ``moments`` seeded moments: the
    reconstruction itself (the customer's touchpoints read, split into known and late, scenes
    and risk state in force at the moment) and the whole ``journey --as-of --json`` document
    (every known touchpoint decoded and masked, production alert workflow linked)."""
    from services.asof import Sources, journey_as_of, reconstruct_at
    from services.platform import Platform

    with Platform(_settings(home)) as platform_:
        sources = Sources.of(platform_)
        timeline = platform_.journey_view.timeline(HEAVY)
        first, last = timeline[0].occurred_at, timeline[-1].recorded_at
        rng = random.Random(SEED)
        span = (last - first).total_seconds()
        chosen = sorted(rng.uniform(0, span) for _ in range(moments))
        at = [int((first.timestamp() + offset) * 1_000_000) for offset in chosen]
        journey_as_of(sources, HEAVY, at[-1])  # warm-up: first queries, imports
        state_ms, document_ms, known = [], [], []
        for moment in at:
            started = time.perf_counter()
            _, state = reconstruct_at(sources, HEAVY, moment)
            state_ms.append((time.perf_counter() - started) * 1000)
            known.append(len(state.known))
            started = time.perf_counter()
            journey_as_of(sources, HEAVY, moment)
            document_ms.append((time.perf_counter() - started) * 1000)
    return {
        "customer_events": len(timeline),
        "moments": moments,
        "known_touchpoints": {"min": min(known), "max": max(known)},
        "reconstruction": _latencies(state_ms),
        "document": _latencies(document_ms),
    }


def _latencies(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[max(0, round(0.95 * len(ordered)) - 1)], 1),
        "max_ms": round(ordered[-1], 1),
    }


def _rate(count: int, seconds: float) -> dict[str, Any]:
    return {
        "events": count,
        "seconds": round(seconds, 2),
        "events_per_s": round(count / seconds) if seconds else None,
    }


def _total(events: int, seconds: float) -> dict[str, Any]:
    return {
        "total_seconds": round(seconds, 2),
        "events_per_s": round(events / seconds) if seconds else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _stage(home: Path, stage: str, *extra: str) -> dict[str, Any]:
    """Run ``stage`` in a fresh interpreter and return what it printed."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(
        [sys.executable, __file__, "--stage", stage, "--workdir", str(home), *extra],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if done.returncode != 0:
        raise SystemExit(f"stage {stage} failed:\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--heavy", type=int, default=5000)
    parser.add_argument("--moments", type=int, default=40)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--stage", choices=["first_build", "rebuild", "as_of"], default=None)
    args = parser.parse_args()
    if args.stage is not None:
        home = args.workdir
        runs = {
            "first_build": lambda: first_build(home),
            "rebuild": lambda: rebuild(home),
            "as_of": lambda: as_of(home, args.moments),
        }
        print(json.dumps(runs[args.stage]()))
        return
    home = args.workdir or Path(tempfile.mkdtemp(prefix="bench-replay-"))
    prepared = prepare(home, args.events, args.heavy)
    first = _stage(home, "first_build")
    again = _stage(home, "rebuild")
    latency = _stage(home, "as_of", "--moments", str(args.moments))
    print(
        json.dumps(
            {
                "machine": {"python": platform.python_version(), "cores": os.cpu_count()},
                "log": prepared,
                "first_build": first,
                "rebuild": again,
                "as_of": latency,
                "ratios": {
                    "rebuild_vs_first_build": round(
                        again["events_per_s"] / first["events_per_s"], 2
                    ),
                    "views_rebuild_vs_first_build": round(
                        again["views"]["events_per_s"] / first["views"]["events_per_s"], 2
                    ),
                },
                "targets": {
                    "as_of_p95_ms": TARGET_AS_OF_P95_MS,
                    "as_of_p95_met": latency["reconstruction"]["p95_ms"] < TARGET_AS_OF_P95_MS,
                    "rebuild_identical_decisions": again["risk"]["identical"],
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
