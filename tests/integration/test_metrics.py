"""The Prometheus exposition on a real platform (chdb, memory log, memory decision store).

What must hold, read back through Prometheus' own text parser: the ingest counter moves by
exactly what the ingest path reported (accepted, duplicate, rejected); the log's end per
partition is the number of records in it; projector lag is what was appended but not projected
and reaches 0 once projected, risk lag is what was projected but not assessed, relay lag the
outbox notifications not yet published; alerts are counted by status and rule and move when a
supervisor acts; dead letters are the rejections kept; a source that cannot be reached is
reported down without failing the scrape. The log-end search is checked on every backend
shape it meets (memory at many sizes, Kafka).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from events.deadletter import DeadLetter
from events.deadletter.kafka import KafkaDeadLetterStore
from events.log import Entry
from events.log.kafka import KafkaEventLog
from events.log.memory import MemoryEventLog
from projections.clickhouse import ViewStore
from services.generate import write_ndjson
from services.ingest.runner import ingest_file
from services.metrics import metrics_text
from services.metrics_readings import dead_letter_count, log_ends
from services.platform import Platform
from services.settings import Settings

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]

BROKEN = [
    "{not json at all",
    json.dumps({"kind": "call"}),  # no customer, no channel, no time
]


def scrape(platform: Platform) -> Samples:
    body, content_type = metrics_text(platform)
    assert content_type.startswith("text/plain; version=")  # the text exposition format
    samples: Samples = {}
    for family in text_string_to_metric_families(body.decode("utf-8")):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def per_partition(samples: Samples, name: str) -> dict[int, int]:
    return {
        int(dict(labels)["partition"]): int(v)
        for (sample, labels), v in samples.items()
        if sample == name
    }


def ingested(samples: Samples) -> dict[str, float]:
    name = "servicetrace_touchpoints_ingested_total"
    return {o: value(samples, name, outcome=o) for o in ("accepted", "duplicate", "rejected")}


def record_counts(log: MemoryEventLog | KafkaEventLog) -> dict[int, int]:
    return {p: sum(1 for _ in log.read_all(p)) for p in range(log.partitions)}


@pytest.fixture
def demo_file(tmp_path: Path) -> Path:
    path = tmp_path / "in.ndjson"
    with path.open("w", encoding="utf-8") as out:
        write_ndjson(out, customers=50, days=30, seed=5)
        out.write("\n".join(BROKEN) + "\n")
    return path


@pytest.fixture
def platform(tmp_path: Path, view_store: ViewStore) -> Iterator[Platform]:
    settings = Settings(home=tmp_path, log="memory", partitions=3, projection_batch_size=100)
    with Platform(settings) as platform:
        platform.__dict__["view_store"] = view_store
        yield platform


def test_ingest_counter_moves_by_what_the_ingest_path_reported(
    platform: Platform, demo_file: Path
) -> None:
    before = ingested(scrape(platform))
    first = ingest_file(platform, demo_file, "ndjson", None, show_progress=False)
    again = ingest_file(platform, demo_file, "ndjson", None, show_progress=False)
    after = ingested(scrape(platform))

    assert first.accepted > 0 and first.rejected == len(BROKEN)
    assert again.duplicates == first.accepted and again.accepted == 0
    assert after["accepted"] - before["accepted"] == first.accepted + again.accepted
    assert after["duplicate"] - before["duplicate"] == first.duplicates + again.duplicates
    assert after["rejected"] - before["rejected"] == first.rejected + again.rejected


def test_lag_is_what_was_appended_and_not_yet_consumed(platform: Platform, demo_file: Path) -> None:
    summary = ingest_file(platform, demo_file, "ndjson", None, show_progress=False)
    log = platform.log
    assert isinstance(log, MemoryEventLog)
    records = record_counts(log)
    assert sum(records.values()) == summary.touchpoints_appended

    samples = scrape(platform)
    assert per_partition(samples, "servicetrace_log_touchpoints") == records
    assert per_partition(samples, "servicetrace_projector_lag") == records
    assert value(samples, "servicetrace_journey_touchpoints") == 0
    assert value(samples, "servicetrace_dead_letters") == len(BROKEN)

    # One batch projected: lag is exactly the rest, partition by partition.
    platform.projector.run_once(max_batches=1)
    committed = platform.projector.committed()
    assert 0 < sum(committed.values()) < sum(records.values())
    samples = scrape(platform)
    expected = {p: n - committed.get(p, 0) for p, n in records.items()}
    assert per_partition(samples, "servicetrace_projector_lag") == expected
    assert per_partition(samples, "servicetrace_projector_committed_position") == committed
    assert value(samples, "servicetrace_journey_touchpoints") >= sum(committed.values())
    # The risk engine has assessed nothing of what was projected.
    assert per_partition(samples, "servicetrace_risk_engine_lag") == {
        p: committed.get(p, 0) for p in records
    }

    platform.projector.run_once()
    samples = scrape(platform)
    assert set(per_partition(samples, "servicetrace_projector_lag").values()) == {0}
    assert value(samples, "servicetrace_journey_touchpoints") == sum(records.values())
    assert per_partition(samples, "servicetrace_risk_engine_lag") == records

    platform.risk_engine.run_once()
    samples = scrape(platform)
    assert set(per_partition(samples, "servicetrace_risk_engine_lag").values()) == {0}
    assert per_partition(samples, "servicetrace_risk_engine_committed_position") == records


def test_relay_lag_and_alert_counts(platform: Platform, demo_file: Path) -> None:
    ingest_file(platform, demo_file, "ndjson", None, show_progress=False)
    platform.projector.run_once()
    platform.risk_engine.run_once()
    outbox = platform.decisions.recorder.max_notification_id() or 0
    assert outbox > 0, "the demo data must raise decisions for this test to mean anything"

    samples = scrape(platform)
    assert value(samples, "servicetrace_outbox_notifications") == outbox
    assert value(samples, "servicetrace_relay_lag") == outbox
    platform.relay.run_once()
    assert value(scrape(platform), "servicetrace_relay_lag") == 0

    rows = platform.decisions.alerts()
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        counts[row.status, row.rule_id] = counts.get((row.status, row.rule_id), 0) + 1
    samples = scrape(platform)
    exported = {
        (dict(labels)["status"], dict(labels)["rule"]): v
        for (name, labels), v in samples.items()
        if name == "servicetrace_alerts" and v
    }
    assert exported == counts
    assert sum(exported.values()) == len(rows)

    # A supervisor acknowledges an open one: it moves from open to acknowledged, and the
    # relay now has that change to publish.
    target = next(row for row in rows if row.status == "open")
    rule = target.rule_id
    platform.decisions.acknowledge(target.alert_id, by="supervisor-1")
    samples = scrape(platform)
    assert value(samples, "servicetrace_alerts", status="open", rule=rule) == (
        counts["open", rule] - 1
    )
    assert value(samples, "servicetrace_alerts", status="acknowledged", rule=rule) == (
        counts.get(("acknowledged", rule), 0) + 1
    )
    assert value(samples, "servicetrace_relay_lag") == 1


def test_an_unreachable_source_is_reported_down_not_raised(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path, log="memory", partitions=2, clickhouse_url="http://127.0.0.1:9/x"
    )
    with Platform(settings) as platform:
        platform.log.append([Entry("e1", "c1", b"x"), Entry("e2", "c2", b"y")])
        samples = scrape(platform)
    up = {
        dict(labels)["source"]: v
        for (name, labels), v in samples.items()
        if name == "servicetrace_metrics_source_up"
    }
    assert up["log"] == 1 and up["dead_letters"] == 1 and up["relay"] == 1
    assert up["projector"] == 0 and up["journey"] == 0 and up["risk_engine"] == 0
    assert sum(per_partition(samples, "servicetrace_log_touchpoints").values()) == 2
    assert not per_partition(samples, "servicetrace_projector_lag")  # unknown, not made up


@pytest.mark.parametrize("count", [0, 1, 2, 3, 7, 8, 9, 100, 1025])
def test_log_ends_finds_every_partition_end(count: int) -> None:
    log = MemoryEventLog(partitions=3)
    log.append([Entry(f"e{i}", f"customer-{i % 11}", b"v") for i in range(count)])
    assert log_ends(log) == record_counts(log)


def test_kafka_log_ends(kafka_bootstrap: str, kafka_topic_name: str, tmp_path: Path) -> None:
    log = KafkaEventLog.connect(
        kafka_bootstrap, tmp_path / "index.sqlite", topic=kafka_topic_name, partitions=3
    )
    try:
        for batch in range(3):  # several batches: a partition's end is not its last batch's
            log.append([Entry(f"e{batch}-{i}", f"c{i}", b"v") for i in range(25)])
        log.flush()
        assert log_ends(log) == record_counts(log)
        assert sum(log_ends(log).values()) == 75
    finally:
        log.close()


def test_kafka_dead_letters_are_counted_from_the_topic_end(
    kafka_bootstrap: str, kafka_topic_name: str, tmp_path: Path
) -> None:
    letters = KafkaDeadLetterStore.connect(
        kafka_bootstrap, tmp_path / "dl.sqlite", topic=kafka_topic_name, partitions=2
    )
    try:
        kept = [
            DeadLetter("in.ndjson", line, "invalid_json", "{", datetime.now(UTC))
            for line in (1, 2, 3)
        ]
        letters.put(kept)
        letters.put(kept[:1])  # the same letter again is not kept twice
        assert dead_letter_count(letters) == len(kept) == letters.count()
    finally:
        letters.close()
