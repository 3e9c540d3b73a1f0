"""The ``servicetrace`` command as a user runs it: real processes, real files, embedded default."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
NYC = REAL / "nyc311" / "nyc311_2023-02-28_sample.csv"


def run(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SERVICETRACE_HOME": str(home),
        "SERVICETRACE_PEPPER": "e2e-pepper-0123456789",
    }
    done = subprocess.run(
        [sys.executable, "-m", "services", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,  # a failure is reported below, with the command's stderr
    )
    if check and done.returncode != 0:
        raise AssertionError(f"servicetrace {' '.join(args)} -> {done.returncode}\n{done.stderr}")
    return done


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(done.stdout)


def test_generate_is_deterministic(tmp_path: Path) -> None:
    a, b, c = (tmp_path / n for n in ("a.ndjson", "b.ndjson", "c.ndjson"))
    for out, seed in ((a, "5"), (b, "5"), (c, "6")):
        run(
            tmp_path,
            "generate",
            "--customers",
            "20",
            "--days",
            "10",
            "--seed",
            seed,
            "--out",
            str(out),
        )
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (a, b, c)]
    assert digest[0] == digest[1] != digest[2]
    assert a.read_text().count("\n") > 20


def test_ingest_project_and_journey(tmp_path: Path) -> None:
    home = tmp_path / "home"
    data = tmp_path / "demo.ndjson"
    run(home, "generate", "--customers", "15", "--days", "20", "--seed", "3", "--out", str(data))
    with data.open("a") as out:
        out.write('{"broken json\n')
        out.write(
            json.dumps(
                {
                    "occurred_at": "2026-01-05T10:00:00",
                    "source": {"system": "x"},
                    "customer": {"id": "C9", "phone": "+86 139 1111 2222"},
                    "channel": "phone",
                    "direction": "inbound",
                    "actor": {"type": "customer"},
                    "kind": "complaint",
                    "service_type": "outage",
                }
            )
            + "\n"
        )
    lines = sum(1 for line in data.read_text().splitlines() if line.strip())

    first = as_json(run(home, "ingest", str(data), "--json"))
    assert first["submitted"] == lines
    assert first["submitted"] == first["accepted"] + first["duplicates"] + first["rejected"]
    assert first["rejected_by_reason"] == {"invalid_json": 1, "timezone_aware": 1}

    again = as_json(run(home, "ingest", str(data), "--json"))
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, lines - 2, 2)
    assert again["touchpoints"]["appended"] == 0

    letters = as_json(run(home, "deadletter", "--json"))
    assert letters["total"] == 2
    assert {x["reason"] for x in letters["letters"]} == {"invalid_json", "timezone_aware"}
    assert "occurred_at" in letters["letters"][1]["errors"][0]["field"]

    summary = as_json(run(home, "summary", "--json"))
    assert summary["touchpoints"] == first["touchpoints"]["appended"]
    assert sum(summary["by_channel"].values()) == summary["touchpoints"]

    customer = json.loads(data.read_text().splitlines()[0])["customer"]["id"]
    journey = as_json(run(home, "journey", customer, "--json"))
    times = [tp["occurred_at"] for tp in journey["touchpoints"]]
    assert journey["customer"]["id"] == customer and len(times) >= 1
    assert times == sorted(times, key=datetime.fromisoformat)
    shown = json.dumps(journey)
    raw_phone = json.loads(data.read_text().splitlines()[0])["customer"].get("phone")
    if raw_phone:
        assert raw_phone not in shown

    screen = run(home, "journey", customer).stdout
    assert f"journey of {customer}" in screen

    missing = run(home, "journey", "nobody", check=False)
    assert missing.returncode == 1 and "no touchpoints" in missing.stderr


def test_csv_through_a_named_mapping(tmp_path: Path) -> None:
    if not NYC.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"real data missing at {NYC}")
        pytest.skip(f"real data missing at {NYC}")
    summary = as_json(run(tmp_path, "ingest", str(NYC), "--mapping", "nyc311", "--json"))
    assert summary["submitted"] == 4999
    assert summary["rejected_by_reason"] == {"closed_before_created": 2}
    assert summary["accepted"] == 4997


def test_a_fatal_error_exits_non_zero_with_a_clear_message(tmp_path: Path) -> None:
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    done = run(tmp_path, "ingest", str(bad), "--mapping", "no-such-mapping", check=False)
    assert done.returncode != 0
    assert "unknown mapping" in done.stderr


def test_project_follow_keeps_up_and_stops_on_sigterm(tmp_path: Path) -> None:
    import signal
    import time

    home = tmp_path / "home"
    data = tmp_path / "d.ndjson"
    run(home, "generate", "--customers", "5", "--days", "5", "--seed", "2", "--out", str(data))
    env = {
        **os.environ,
        "SERVICETRACE_HOME": str(home),
        "SERVICETRACE_PEPPER": "e2e-pepper-0123456789",
    }
    follower = subprocess.Popen(
        [sys.executable, "-m", "services", "project", "--follow", "--poll", "0.2", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        beat = home / "health" / "projector"
        deadline = time.monotonic() + 60
        while not beat.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert beat.exists(), "the follower writes a heartbeat while idle"
        first = beat.stat().st_mtime
        time.sleep(1.0)
        assert beat.stat().st_mtime > first, "the heartbeat keeps moving while idle"
        ingested = as_json(run(home, "ingest", str(data), "--json"))["touchpoints"]["appended"]
        time.sleep(3.0)
    finally:
        follower.send_signal(signal.SIGTERM)
        out, err = follower.communicate(timeout=60)
    assert follower.returncode == 0, err
    assert ingested > 0
    assert json.loads(out)["events"] == ingested, "touchpoints ingested meanwhile are projected"


def test_scenes_customer_channels_compliance_and_checksums(tmp_path: Path) -> None:
    home = tmp_path / "home"
    data = tmp_path / "demo.ndjson"
    run(home, "generate", "--customers", "20", "--days", "30", "--seed", "4", "--out", str(data))
    run(home, "ingest", str(data), "--json")
    records = [json.loads(line) for line in data.read_text().splitlines()]
    customer = records[0]["customer"]["id"]

    scenes = as_json(run(home, "scenes", customer, "--json"))["scenes"]
    assert scenes and all(s["customer_id"] == customer for s in scenes)
    assert [s["started_at"] for s in scenes] == sorted(s["started_at"] for s in scenes)
    one = as_json(run(home, "scene", scenes[0]["episode_id"], "--json"))
    assert one["episode_id"] == scenes[0]["episode_id"]
    assert [tp["event_id"] for tp in one["touchpoints_detail"]] == one["event_ids"]
    assert f"scene {scenes[0]['episode_id']}" in run(home, "scene", scenes[0]["episode_id"]).stdout

    profile = as_json(run(home, "customer", customer, "--json"))
    mine = [r for r in records if r["customer"]["id"] == customer]
    assert profile["touchpoints"] == len(mine)
    raw = {v for r in mine for k, v in r["customer"].items() if k in ("name", "phone", "email")}
    assert raw and not any(value in json.dumps(profile) for value in raw), "personal data masked"

    channels = as_json(run(home, "channels", "--json"))["channels"]
    assert sum(c["volume"] for c in channels) == len(records)
    daily = as_json(run(home, "channels", "--daily", "--from", "2026-01-10", "--json"))
    assert daily["channels"] and min(c["day"] for c in daily["channels"]) >= "2026-01-10"

    compliance = as_json(run(home, "compliance", "--json", "--limit", "3"))
    assert len(compliance["violations"]) <= 3
    assert all(v["rule"] in ("dnd_window", "silence_real_time") for v in compliance["violations"])

    before = as_json(run(home, "checksums", "--json"))
    assert as_json(run(home, "project", "--json"))["events"] == 0
    assert as_json(run(home, "checksums", "--json")) == before, "projecting again changes nothing"
    rebuilt = as_json(run(home, "project", "--rebuild", "--json"))
    assert rebuilt["events"] == len(records)
    assert as_json(run(home, "checksums", "--json")) == before, "a rebuild gives the same views"
    assert before["touchpoints"] == len(records)

    missing = run(home, "scenes", "nobody", check=False)
    assert missing.returncode == 1 and "no episodes" in missing.stderr
