"""Exactly-once effect: a projector SIGKILLed at random moments ends with the same views.

100k generated touchpoints are ingested into an embedded log, and the data directory is copied.
One copy is projected without interruption (the reference). The other is projected by
``servicetrace project`` processes that are SIGKILLed at seeded random moments, at least ten
times, and then allowed to finish. Every view's checksum (computed in ClickHouse over the
deduplicated rows) and the committed positions must then equal the reference.

Kills land anywhere: while chdb starts, in the middle of a journey insert, between the fold
writes and the position commit. Small batches (1,000 records) make the last two likely. The
killed projector folds in a worker process (``SERVICETRACE_PROJECTION_FOLD_PROCESS``), the way
big runs do, or in process; the reference always folds in process.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

EVENTS = 100_000
KILLS = 10
SEED = 20261123


def _env(home: Path, fold_process: str = "false") -> dict[str, str]:
    return {
        **os.environ,
        "SERVICETRACE_HOME": str(home),
        "SERVICETRACE_PEPPER": "sigkill-pepper-0123456789",
        "SERVICETRACE_PROJECTION_BATCH_SIZE": "1000",
        "SERVICETRACE_PROJECTION_FOLD_PROCESS": fold_process,
    }


def _run(home: Path, *args: str, fold_process: str = "false") -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "services", *args],
        env=_env(home, fold_process),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"servicetrace {' '.join(args)} -> {done.returncode}\n{done.stderr}")
    return json.loads(done.stdout) if "--json" in args else done.stdout


def _kill_at_random(home: Path, delay: float, fold_process: str) -> int | None:
    """Start a projector, SIGKILL it after ``delay`` seconds; its exit code if it finished."""
    process = subprocess.Popen(
        [sys.executable, "-m", "services", "project", "--json"],
        env=_env(home, fold_process),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        return process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return None


@pytest.mark.slow
@pytest.mark.parametrize("fold_process", ["true", "false"])
def test_views_after_random_sigkills_equal_an_uninterrupted_run(
    tmp_path: Path, fold_process: str
) -> None:
    killed_home, reference_home = tmp_path / "killed", tmp_path / "reference"
    data = tmp_path / "touchpoints.ndjson"
    _run(
        killed_home,
        "generate",
        "--customers",
        "1000",
        "--days",
        "215",
        "--seed",
        "11",
        "--out",
        str(data),
    )
    submitted = sum(1 for _ in data.open())
    assert submitted >= EVENTS
    summary = _run(killed_home, "ingest", str(data), "--json")
    assert summary["accepted"] == submitted
    shutil.copytree(killed_home, reference_home)

    _run(reference_home, "project", "--json")
    expected = _run(reference_home, "checksums", "--json")
    assert expected["touchpoints"] == submitted

    rng = random.Random(SEED)
    kills, progress = 0, []
    while kills < KILLS:
        if _kill_at_random(killed_home, rng.uniform(0.3, 1.6), fold_process) is not None:
            break  # finished before the kill: the remaining kills would hit nothing
        kills += 1
        progress.append(_run(killed_home, "checksums", "--json")["touchpoints"])
    finished = _run(killed_home, "project", "--json", fold_process=fold_process)
    actual = _run(killed_home, "checksums", "--json")

    assert kills >= KILLS, f"the projector finished after only {kills} kills"
    assert any(0 < seen < submitted for seen in progress), "no kill landed mid-projection"
    assert finished["events"] >= 0
    assert actual == expected
