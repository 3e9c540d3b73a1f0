"""``servicetrace metrics`` as an operator runs it: real processes on the embedded default.

The figures come from the stores, not from the process printing them: after another process
ingested, the log's end and the projector's lag show it; after ``project`` the lag is 0 and
the journey view holds every touchpoint. The ingest counter is per process (it counts what
*this* process ingested), so a fresh ``metrics`` process reports 0 there.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_cli import as_json, run

pytestmark = pytest.mark.slow


def samples(home: Path) -> dict[str, float]:
    """Sample name (with labels folded in) → value, summed over partitions."""
    text = run(home, "metrics").stdout
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(
                f"{k}={v}" for k, v in sorted(sample.labels.items()) if k != "partition"
            )
            key = f"{sample.name}{{{labels}}}" if labels else sample.name
            totals[key] = totals.get(key, 0) + sample.value
    return totals


def test_metrics_follow_ingest_and_projection(tmp_path: Path) -> None:
    data = tmp_path / "in.ndjson"
    run(
        tmp_path, "generate", "--customers", "20", "--days", "10", "--seed", "4", "--out", str(data)
    )
    ingested = as_json(run(tmp_path, "ingest", str(data), "--json"))
    appended = ingested["touchpoints"]["appended"]
    assert appended > 0

    before = samples(tmp_path)
    assert before["servicetrace_log_touchpoints"] == appended
    assert before["servicetrace_projector_lag"] == appended
    assert before["servicetrace_touchpoints_ingested_total{outcome=accepted}"] == 0
    assert before["servicetrace_metrics_source_up{source=log}"] == 1

    run(tmp_path, "project")
    after = samples(tmp_path)
    assert after["servicetrace_projector_lag"] == 0
    assert after["servicetrace_risk_engine_lag"] == 0
    assert after["servicetrace_journey_touchpoints"] == appended
    assert after["servicetrace_relay_lag"] == 0  # the embedded `project` relays in process
    down = [
        key
        for key, v in after.items()
        if key.startswith("servicetrace_metrics_source_up") and v != 1
    ]
    assert not down, down
