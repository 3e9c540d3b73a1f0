"""``journey --as-of``, ``scene --as-of`` and ``replay`` as an auditor runs them: real processes
on the embedded default, and one real pseudo-terminal for the interactive step-through."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_cli import as_json, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated touchpoints ingested, projected and decided."""
    home = tmp_path_factory.mktemp("replay-home")
    data = home / "in.ndjson"
    run(home, "generate", "--customers", "40", "--days", "30", "--seed", "3", "--out", str(data))
    run(home, "ingest", str(data))
    run(home, "project")
    return home


@pytest.fixture(scope="module")
def late(home: Path) -> dict[str, Any]:
    """A generated record recorded more than an hour after it occurred."""
    for line in (home / "in.ndjson").read_text().splitlines():
        record = json.loads(line)
        occurred = datetime.fromisoformat(record["occurred_at"])
        recorded = datetime.fromisoformat(record["recorded_at"])
        if recorded - occurred > timedelta(hours=2):
            return {"record": record, "occurred": occurred, "recorded": recorded}
    raise AssertionError("the generated data has no late arrival")


def test_journey_as_of_splits_known_from_late(home: Path, late: dict[str, Any]) -> None:
    customer = late["record"]["customer"]["id"]
    between = (late["occurred"] + (late["recorded"] - late["occurred"]) / 2).isoformat()
    data = as_json(run(home, "journey", customer, "--as-of", between, "--json", "--by", "ann"))
    assert datetime.fromisoformat(data["as_of"]) == datetime.fromisoformat(between)
    known = data["known"]["touchpoints"]
    assert all(tp["occurred_at"] <= tp["recorded_at"] for tp in known)
    assert all(
        datetime.fromisoformat(tp["recorded_at"]) <= datetime.fromisoformat(between) for tp in known
    )
    kinds = {(tp["kind"], tp["occurred_at"]) for tp in data["late_arrivals"]}
    assert (late["record"]["kind"], late["record"]["occurred_at"]) in kinds
    assert all(tp["known_at_as_of"] is False for tp in data["late_arrivals"])
    assert {"sensitive", "alerts", "agent_warnings", "production_note"} <= set(data["risk"])

    everything = as_json(run(home, "journey", customer, "--json"))
    after = as_json(run(home, "journey", customer, "--as-of", "2100-01-01", "--json"))
    assert after["late_arrivals"] == []
    assert [tp["event_id"] for tp in after["known"]["touchpoints"]] == [
        tp["event_id"] for tp in everything["touchpoints"]
    ]
    screen = run(home, "journey", customer, "--as-of", between).stdout
    assert "NOT KNOWN at the as-of moment" in screen and "risk as known at" in screen


def test_scene_as_of_and_bad_moments(home: Path, late: dict[str, Any]) -> None:
    customer = late["record"]["customer"]["id"]
    scenes = as_json(run(home, "scenes", customer, "--json"))["scenes"]
    first = scenes[0]
    before = as_json(run(home, "scene", first["episode_id"], "--as-of", "2000-01-01", "--json"))
    assert before["existed"] is False and "did not exist yet" in before["note"]
    at_end = as_json(run(home, "scene", first["episode_id"], "--as-of", "2100-01-01", "--json"))
    assert at_end["existed"] is True
    assert [s["event_ids"] for s in at_end["scenes"]] == [first["event_ids"]]

    wrong = run(home, "journey", customer, "--as-of", "last tuesday", check=False)
    assert wrong.returncode == 2 and "is not a moment" in wrong.stderr
    backwards = run(
        home, "replay", customer, "--from", "2026-02-01", "--to", "2026-01-01", check=False
    )
    assert backwards.returncode == 2 and "--from is after --to" in backwards.stderr


def test_replay_json_is_one_state_per_step(home: Path, late: dict[str, Any]) -> None:
    customer = late["record"]["customer"]["id"]
    journey = as_json(run(home, "journey", customer, "--json"))["touchpoints"]
    lines = run(home, "replay", customer, "--json").stdout.splitlines()
    steps = [json.loads(line) for line in lines]
    assert [s["step"] for s in steps] == list(range(1, len(journey) + 1))
    assert [s["touchpoint"]["event_id"] for s in steps] == [tp["event_id"] for tp in journey]
    marked = [s for s in steps if s["late"] is not None]
    assert any(s["touchpoint"]["occurred_at"] == late["record"]["occurred_at"] for s in marked)
    alerts = [s["risk"]["alerts_so_far"] for s in steps]
    assert alerts == sorted(alerts)

    start, end = steps[2]["at"], steps[5]["at"]
    window = run(home, "replay", customer, "--from", start, "--to", end, "--json").stdout
    bounded = [json.loads(line) for line in window.splitlines()]
    assert [s["step"] for s in bounded] == [s["step"] for s in steps if start <= s["at"] <= end]
    assert bounded[0]["risk"] == next(s for s in steps if s["step"] == bounded[0]["step"])["risk"]

    screen = run(home, "replay", customer, "--to", end).stdout
    assert f"step 1 of {len(steps)}" in screen and "episode" in screen


_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


class Terminal:
    """A process on a pseudo-terminal, read until an expected text shows."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
        )
        os.close(slave)
        self.screen = ""

    def expect(self, text: str, count: int = 1, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while self.screen.count(text) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} x{count} never showed:\n{self.screen[-2000:]}")
            ready, _, _ = select.select([self.master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    chunk = b""
                if not chunk and self.process.poll() is not None:
                    continue
                self.screen += _ANSI.sub("", chunk.decode("utf-8", "replace"))

    def press(self, keys: str) -> None:
        os.write(self.master, keys.encode())


def test_replay_is_interactive_on_a_terminal(home: Path, late: dict[str, Any]) -> None:
    customer = late["record"]["customer"]["id"]
    env = {
        **os.environ,
        "SERVICETRACE_HOME": str(home),
        "SERVICETRACE_PEPPER": "e2e-pepper-0123456789",
        "COLUMNS": "120",
        "TERM": "xterm",
    }
    term = Terminal([sys.executable, "-m", "services", "replay", customer], env)
    try:
        term.expect("step 1 of ")
        term.press("n")
        term.expect("step 2 of ")
        term.press("b")
        term.expect("step 1 of ", count=2)
        term.press("j")
        term.expect("jump to step number or moment")
        term.press("4\r")
        term.expect("step 4 of ")
        term.press("q")
        assert term.process.wait(timeout=30) == 0
    finally:
        if term.process.poll() is None:
            term.process.kill()
        os.close(term.master)
    shown = re.findall(r"step (\d+) of", term.screen)
    assert shown == ["1", "2", "1", "4"]


def test_every_journey_scene_and_replay_read_is_recorded(home: Path, late: dict[str, Any]) -> None:
    customer = late["record"]["customer"]["id"]
    moment = late["recorded"].isoformat()
    by = ["--by", "auditor-zoe"]
    episode = as_json(run(home, "scenes", customer, "--json", *by))["scenes"][0]["episode_id"]
    run(home, "journey", customer, "--json", *by)
    run(home, "journey", customer, "--as-of", moment, "--json", *by)
    run(home, "scene", episode, "--json", *by)
    run(home, "scene", episode, "--as-of", moment, "--json", *by)
    run(home, "replay", customer, "--json", *by)
    assert run(home, "journey", "nobody", *by, check=False).returncode == 1

    rows = as_json(run(home, "reads", "--by", "auditor-zoe", "--json"))
    assert [(r["what"], r["customer_id"]) for r in reversed(rows)] == [
        ("scenes", customer),
        ("journey", customer),
        ("journey", customer),
        ("scene", customer),
        ("scene", customer),
        ("replay", customer),
    ], "every read that showed something, oldest first; the empty one is not a read"
    subjects = [r["subject"] for r in reversed(rows)]
    assert subjects[1] == {} and "as_of" in subjects[2]
    assert subjects[3] == {"episode_id": episode}
    assert subjects[4]["episode_id"] == episode and "as_of" in subjects[4]
