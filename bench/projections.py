"""Projection benchmark: the whole log into every view, beside reading and decoding it alone.

Prints one JSON document. Each measurement runs in a fresh subprocess (chdb opens one data
directory per process, and a fresh process gives an honest peak RSS), against the same
embedded log of generated touchpoints:

* ``baseline.read``: reading every record from the SQLite log;
* ``baseline.read_decode``: reading and decoding every record with fastavro (the usual way
  a Python consumer gets at the data), the reference the targets are read against;
* ``projection``: ``Projector.run_once`` from position 0 into the journey, scene, compliance
  and customer views (channel analytics is computed at read time: its query is timed apart).

Peak RSS counts the whole process tree: the projector folds in a worker process for batches
this size, so ``peak_rss_mb`` is the sum of every process's own peak (``VmHWM``: an upper bound
of the tree's peak, as the peaks need not coincide) and ``peak_rss_sampled_mb`` the highest
sum of current RSS seen by sampling the tree every 0.1 s. (Until 2026-11-23 only the bench
process itself was counted, which was all there was.)

Targets (issue 3, 2-core machine): >= 50,000 events/s and <= 1.5 GB peak RSS for the full
projection of 1M events.

Usage: ``python bench/projections.py [--events 1000000] [--workdir DIR] [--fold-process
auto|on|off] [--skip-baseline]``; with ``--workdir`` the generated log is kept and reused by
later runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from io import BytesIO
from itertools import islice
from pathlib import Path
from typing import Any

# This script is named like the package it measures: keep its own directory off the import
# path, or ``import projections`` would import this file.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

TARGET_EVENTS_PER_S = 50_000
TARGET_PEAK_RSS_MB = 1536
PARTITIONS = 6
BATCH = 50_000


def _settings(home: Path) -> Any:
    from services.settings import Settings

    return Settings(
        home=home,
        partitions=PARTITIONS,
        pepper="bench-pepper-0123456789",
        projection_batch_size=BATCH,
    )


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_kb(pid: int, field: str) -> int:
    """A ``/proc/<pid>/status`` memory field in kB (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (all its threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 1)


def _tree() -> list[int]:
    """This process and all its descendants (the fold worker)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [os.getpid()]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


class _TreeRss:
    """Samples the summed RSS of the process tree every 0.1 s in a thread."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            total = sum(_status_kb(pid, "VmRSS") for pid in _tree())
            self.peak_kb = max(self.peak_kb, total)

    def stop(self) -> dict[str, Any]:
        """Stop sampling; the figures, taken while every process of the run still lives."""
        self._stop.set()
        self._thread.join()
        pids = _tree()
        return {
            "processes": len(pids),
            "cpu_seconds": [_cpu_seconds(pid) for pid in pids],
            "peak_rss_mb": round(sum(_status_kb(pid, "VmHWM") for pid in pids) / 1024),
            "peak_rss_sampled_mb": round(self.peak_kb / 1024),
            "peak_rss_main_mb": round(_peak_rss_mb()),
        }


def prepare(home: Path, events: int) -> dict[str, Any]:
    """Generate ``events`` touchpoints and ingest them into the embedded log (once)."""
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
        for record in islice(generate(customers=customers, days=400, seed=3), events):
            out.write(dumps_record(record) + "\n")
    started = time.perf_counter()
    with Platform(_settings(home)) as platform_:
        summary = ingest_file(platform_, data, "ndjson", None).to_json()
    facts = {
        "events": summary["touchpoints"]["appended"],
        "customers": customers,
        "ingest_seconds": round(time.perf_counter() - started, 1),
    }
    data.unlink()
    marker.write_text(json.dumps(facts))
    return facts


def read(home: Path, decode: bool) -> dict[str, Any]:
    """Read (and optionally decode with fastavro) every record of the log."""
    from fastavro import schemaless_reader

    from events.log.sqlite import SqliteEventLog
    from schemas.registry import FileSchemaRegistry
    from schemas.serde import TOUCHPOINT_SUBJECT

    registry = FileSchemaRegistry.load()
    _, schema = registry.latest(TOUCHPOINT_SUBJECT)
    count = 0
    started = time.perf_counter()
    with SqliteEventLog(home / "log.sqlite", partitions=PARTITIONS) as log:
        for partition in range(log.partitions):
            position = 0
            while records := log.read(partition, position, BATCH):
                if decode:
                    for record in records:
                        schemaless_reader(BytesIO(record.value[5:]), schema, None)
                count += len(records)
                position = records[-1].position + 1
    return _rate(count, time.perf_counter() - started)


def project(home: Path) -> dict[str, Any]:
    """Project the whole log from position 0 into every view; then time the read-time views."""
    from services.platform import Platform

    with Platform(_settings(home)) as platform_:
        projector = platform_.projector
        projector.positions.reset(projector.name)
        for view in (projector.journey, *projector.folds.views):
            view.reset()
        sampler = _TreeRss()
        started = time.perf_counter()
        stats = projector.run_once()
        elapsed = time.perf_counter() - started
        result = _rate(stats.events, elapsed)
        result["fold_process"] = projector.fold_process
        result.update(sampler.stop())
        query = time.perf_counter()
        channels = platform_.channel_view.totals()
        result["channel_query_seconds"] = round(time.perf_counter() - query, 3)
        result["channels"] = len(channels)
        result["episodes"] = platform_.scene_view.totals()["episodes"]
        result["violations"] = sum(
            sum(per_channel.values()) for per_channel in platform_.compliance_view.counts().values()
        )
        result["rows_written"] = stats.folds.upserted
        result["undecodable"] = stats.undecodable_count
    return result


def _rate(count: int, seconds: float) -> dict[str, Any]:
    return {
        "events": count,
        "seconds": round(seconds, 2),
        "events_per_s": round(count / seconds) if seconds else None,
        "peak_rss_mb": round(_peak_rss_mb()),
    }


def _stage(home: Path, stage: str, fold_process: str = "auto") -> dict[str, Any]:
    """Run ``stage`` in a fresh interpreter and return what it printed."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    if fold_process != "auto":
        env["SERVICETRACE_PROJECTION_FOLD_PROCESS"] = "true" if fold_process == "on" else "false"
    done = subprocess.run(
        [sys.executable, __file__, "--stage", stage, "--workdir", str(home)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--stage", choices=["read", "read_decode", "project"], default=None)
    parser.add_argument(
        "--fold-process",
        choices=["auto", "on", "off"],
        default="auto",
        help="fold in a worker process (default: the projector's own choice)",
    )
    parser.add_argument("--skip-baseline", action="store_true", help="measure the projection only")
    args = parser.parse_args()
    if args.stage is not None:
        home = args.workdir
        runs = {
            "read": lambda: read(home, decode=False),
            "read_decode": lambda: read(home, decode=True),
            "project": lambda: project(home),
        }
        print(json.dumps(runs[args.stage]()))
        return
    home = args.workdir or Path(tempfile.mkdtemp(prefix="bench-projections-"))
    prepared = prepare(home, args.events)
    baseline = {}
    if not args.skip_baseline:
        baseline = {"read": _stage(home, "read"), "read_decode": _stage(home, "read_decode")}
    projection = _stage(home, "project", args.fold_process)
    decoded = baseline["read_decode"]["events_per_s"] if baseline else None
    print(
        json.dumps(
            {
                "machine": {"python": platform.python_version(), "cores": os.cpu_count()},
                "log": prepared,
                "baseline": baseline,
                "projection": projection,
                "ratios": {
                    "projection_vs_read_decode": (
                        round(projection["events_per_s"] / decoded, 2) if decoded else None
                    )
                },
                "targets": {
                    "events_per_s": TARGET_EVENTS_PER_S,
                    "events_per_s_met": projection["events_per_s"] >= TARGET_EVENTS_PER_S,
                    "peak_rss_mb": TARGET_PEAK_RSS_MB,
                    "peak_rss_met": projection["peak_rss_mb"] <= TARGET_PEAK_RSS_MB,
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
