"""The alert commands as a supervisor runs them: real processes on the embedded default."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_cli import as_json, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with generated touchpoints ingested, projected and decided."""
    home = tmp_path_factory.mktemp("alerts-home")
    data = home / "in.ndjson"
    run(home, "generate", "--customers", "80", "--days", "30", "--seed", "3", "--out", str(data))
    run(home, "ingest", str(data))
    run(home, "project")
    return home


def alerts(home: Path, *args: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = as_json(run(home, "alerts", "--limit", "1000", "--json", *args))
    return rows


def test_project_decides_and_lists_alerts_with_provenance(home: Path) -> None:
    rows = alerts(home)
    assert rows, "generated data raises alerts"
    assert {row["status"] for row in rows} == {"open"}
    assert {"repeat_request", "sla_overdue"} <= {row["rule_id"] for row in rows}
    ats = [row["at"] for row in rows]
    assert ats == sorted(ats, reverse=True)

    repeat = next(row for row in rows if row["rule_id"] == "repeat_request")
    detail = as_json(run(home, "alert", repeat["alert_id"][:10], "--json"))
    assert detail["rule_version"] == 1
    assert len(detail["triggers"]) >= 3
    assert [tp["event_id"] for tp in detail["touchpoints"]] == detail["triggers"]
    assert {tp["kind"] for tp in detail["touchpoints"]} <= {
        "service_request",
        "inquiry",
        "complaint",
        "report",
    }
    human = run(home, "alert", repeat["alert_id"]).stdout
    assert "triggering touchpoints" in human and repeat["alert_id"] in human


def test_the_alert_workflow_and_an_invalid_transition(home: Path) -> None:
    first, second = alerts(home, "--status", "open")[:2]
    assert "now acknowledged" in run(home, "ack", first["alert_id"], "--by", "sam").stdout
    run(home, "resolve", first["alert_id"], "--by", "sam", "--note", "called back")
    run(home, "dismiss", second["alert_id"], "--by", "kim", "--reason", "known outage")

    refused = run(home, "resolve", second["alert_id"], "--by", "sam", "--note", "x", check=False)
    assert refused.returncode == 2
    assert "is dismissed: it cannot be resolved" in refused.stderr

    detail = as_json(run(home, "alert", first["alert_id"], "--json"))
    assert [(h["status"], h["by"]) for h in detail["history"]] == [
        ("acknowledged", "sam"),
        ("resolved", "sam"),
    ]
    assert detail["history"][-1]["note"] == "called back"
    resolved = {row["alert_id"] for row in alerts(home, "--status", "resolved")}
    assert first["alert_id"] in resolved
    missing = run(home, "ack", "ffffffff", "--by", "sam", check=False)
    assert missing.returncode == 2 and "no alert id starts with" in missing.stderr


def test_a_sensitive_customer_can_be_cleared_with_a_reason(home: Path) -> None:
    warned = [row for row in alerts(home) if row["rule_id"] == "agent_warning"]
    assert warned, "generated data has sensitive customers who call again"
    customer = warned[0]["customer_id"]
    risk = as_json(run(home, "risk", customer, "--json"))
    assert risk["sensitive"] is True
    assert risk["changes"][0]["action"] == "flag_raised"
    run(home, "clear", customer, "--by", "lee", "--reason", "complaint withdrawn")
    cleared = as_json(run(home, "risk", customer, "--json"))
    assert cleared["sensitive"] is False
    assert cleared["changes"][-1]["by"] == "lee"
    again = run(home, "clear", customer, "--by", "lee", "--reason", "twice", check=False)
    assert again.returncode == 2 and "not flagged sensitive" in again.stderr


def test_alerts_follow_streams_changes_as_they_are_published(home: Path) -> None:
    env = {**os.environ, "SERVICETRACE_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    follower = subprocess.Popen(
        [sys.executable, "-m", "services", "alerts", "--follow", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(2.0)  # let it find the end of the stream
        target = alerts(home, "--status", "open")[0]
        run(home, "ack", target["alert_id"], "--by", "ops")
        run(home, "relay")
        deadline = time.monotonic() + 20
        ours: list[dict[str, Any]] = []
        assert follower.stdout is not None
        buffer = ""
        while time.monotonic() < deadline and not ours:
            line = follower.stdout.readline()
            buffer += line
            if line.startswith("}"):
                message = json.loads(buffer)
                buffer = ""
                if message["alert_id"] == target["alert_id"]:
                    ours.append(message)
        assert ours, "the acknowledgement never reached the stream"
        assert ours[0]["change"] == "acknowledged" and ours[0]["actor"] == "ops"
        assert ours[0]["status"] == "acknowledged"
    finally:
        follower.send_signal(signal.SIGTERM)
        follower.wait(timeout=10)
