"""The same commands with ``SERVICETRACE_LOG=kafka``: the production wiring, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.kafka


def run(home: Path, bootstrap: str, suffix: str, *args: str) -> Any:
    env = {
        **os.environ,
        "SERVICETRACE_HOME": str(home),
        "SERVICETRACE_PEPPER": "e2e-pepper-0123456789",
        "SERVICETRACE_LOG": "kafka",
        "SERVICETRACE_KAFKA_BOOTSTRAP": bootstrap,
        "SERVICETRACE_KAFKA_TOPIC": f"e2e.touchpoints.{suffix}",
        "SERVICETRACE_KAFKA_DEADLETTER_TOPIC": f"e2e.deadletter.{suffix}",
        "SERVICETRACE_KAFKA_ALERTS_TOPIC": f"e2e.alerts.{suffix}",
        "SERVICETRACE_KAFKA_FLAGS_TOPIC": f"e2e.flags.{suffix}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "services", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, f"servicetrace {' '.join(args)}: {done.stderr}"
    return json.loads(done.stdout)


def test_ingest_deadletters_and_journey_through_kafka(kafka_bootstrap: str, tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:10]
    data = tmp_path / "in.ndjson"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "services",
            "generate",
            "--customers",
            "6",
            "--days",
            "6",
            "--seed",
            "4",
            "--out",
            str(data),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with data.open("a") as out:
        out.write('{"not": "a touchpoint"}\n')
    home = tmp_path / "home"

    first = run(home, kafka_bootstrap, suffix, "ingest", str(data))
    assert first["rejected"] == 1 and first["accepted"] == first["submitted"] - 1
    again = run(home, kafka_bootstrap, suffix, "ingest", str(data))
    assert again["touchpoints"]["appended"] == 0 and again["duplicates"] == first["accepted"]

    letters = run(home, kafka_bootstrap, suffix, "deadletter")
    assert letters["total"] == 1 and letters["letters"][0]["line"] == first["submitted"]

    summary = run(home, kafka_bootstrap, suffix, "summary")
    assert summary["touchpoints"] == first["touchpoints"]["appended"]

    customer = json.loads(data.read_text().splitlines()[0])["customer"]["id"]
    journey = run(home, kafka_bootstrap, suffix, "journey", customer)
    assert journey["touchpoints"] and journey["customer"]["id"] == customer
