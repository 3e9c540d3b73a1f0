"""What keeps the live pipeline's passes short (bench/alerts.py measures the latency).

* a projector batch spans partitions, so a pass that finds a few records in each partition
  stores, folds and commits them once, and the risk engine does the same;
* a read that ended short of its limit is not repeated in the same pass (on Kafka the
  repeat would cost a whole poll timeout per partition);
* the Kafka log can end a read at the high watermark instead of an empty poll, and the live
  read timings reach the touchpoint log from the settings (and only that log).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from events.log import Entry, EventLog, LogRecord
from events.log.kafka import KafkaEventLog, KafkaLogConfig
from events.log.memory import MemoryEventLog
from projections.clickhouse import ViewStore
from projections.projector import Projector
from projections.views import JourneyView, standard_folds
from schemas.serde import TouchpointSerde
from services.platform import Platform
from services.settings import Settings
from tests.factories import make_touchpoint

SERDE = TouchpointSerde()
DEFAULTS = KafkaLogConfig("unused:1", index_path=Path("unused"))


class CountingLog(MemoryEventLog):
    """Counts reads."""

    def __init__(self, partitions: int) -> None:
        super().__init__(partitions=partitions)
        self.reads = 0

    def read(self, partition: int, position: int, limit: int = 1000) -> list[LogRecord]:
        self.reads += 1
        return super().read(partition, position, limit)


def fill(log: EventLog, customers: int, each: int) -> int:
    touchpoints = [
        make_touchpoint(f"C{c}", "inquiry", "phone", minutes=i)
        for i in range(each)
        for c in range(customers)
    ]
    log.append([Entry(str(t.event_id), t.customer_id, SERDE.encode(t)) for t in touchpoints])
    return len(touchpoints)


def test_a_pass_puts_a_few_records_of_every_partition_in_one_batch(
    view_store: ViewStore,
) -> None:
    log = CountingLog(partitions=4)
    appended = fill(log, customers=12, each=3)
    assert all(log.read(p, 0) for p in range(4))  # every partition has records
    log.reads = 0
    stats = Projector(log, view_store, folds=standard_folds(view_store), batch_size=100).run_once()
    assert (stats.events, stats.batches) == (appended, 1)
    assert log.reads == 4  # one read per partition: none repeated after a short one
    assert sum(stats.positions.values()) == appended
    assert JourneyView(view_store).count() == appended


def test_batches_span_partitions_and_cover_every_record_once(view_store: ViewStore) -> None:
    log = MemoryEventLog(partitions=3)
    appended = fill(log, customers=7, each=5)
    runner = Projector(log, view_store, folds=standard_folds(view_store), batch_size=4)
    stats = runner.run_once()
    assert stats.events == appended
    assert stats.batches == -(-appended // 4)  # full batches across partition boundaries
    ends = {p: len(log.read(p, 0, 10_000)) for p in range(3)}
    assert runner.positions.get(runner.name) == ends
    assert runner.run_once().events == 0


def test_facts_of_several_ranges_in_one_query(view_store: ViewStore) -> None:
    log = MemoryEventLog(partitions=3)
    fill(log, customers=9, each=4)
    journey = JourneyView(view_store)
    journey.ensure()
    for partition in range(3):
        journey.write(log.read(partition, 0, 1000))
    ranges = {0: (1, 2), 2: (0, 3)}
    one_by_one = [f for p, (a, b) in ranges.items() for f in journey.facts_at(p, a, b)]
    assert sorted(journey.facts_in(ranges)) == sorted(one_by_one)
    assert len(one_by_one) == 2 + 4
    assert journey.facts_in({}) == []


@pytest.mark.kafka
def test_a_read_can_end_at_the_high_watermark_without_waiting(
    kafka_bootstrap: str, kafka_topic_name: str, tmp_path: Path
) -> None:
    config = KafkaLogConfig(
        kafka_bootstrap,
        topic=kafka_topic_name,
        partitions=1,
        index_path=tmp_path / "index.db",
        poll_timeout_ms=5000,  # an empty poll would make the read last 5 s
        fetch_max_wait_ms=10,
        end_at_highwater=True,
    )
    with KafkaEventLog(config) as log:
        values = [f"v{i}".encode() for i in range(25)]
        log.append([Entry(str(uuid.uuid4()), "k", value) for value in values])
        started = time.monotonic()
        records = log.read(0, 0, 1000)
        assert time.monotonic() - started < 2.5
        assert [r.value for r in records] == values
        log.append([Entry(str(uuid.uuid4()), "k", b"late")])
        assert [r.value for r in log.read(0, 25, 1000)] == [b"late"]


def test_live_read_timings_reach_the_touchpoint_log_only(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path,
        log="kafka",
        kafka_bootstrap="127.0.0.1:9",  # never contacted: the logs connect on first use
        kafka_poll_timeout_ms=50,
        kafka_fetch_max_wait_ms=10,
        kafka_end_at_highwater=True,
    )
    with Platform(settings) as platform:
        log: Any = platform.log
        assert (log.config.poll_timeout_ms, log.config.fetch_max_wait_ms) == (50, 10)
        assert log.config.end_at_highwater
        for decision_log in platform.decision_logs.values():
            config: Any = getattr(decision_log, "config", None)
            assert config is not None and not config.end_at_highwater
            assert config.poll_timeout_ms == DEFAULTS.poll_timeout_ms
    default: Any = Platform(Settings(home=tmp_path, log="kafka", kafka_bootstrap="x:1")).log
    assert default.config.poll_timeout_ms == DEFAULTS.poll_timeout_ms
    assert not default.config.end_at_highwater


def test_following_takes_the_live_read_timings_unless_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from services.settings import Settings

    live = Settings().for_following()
    assert (live.kafka_poll_timeout_ms, live.kafka_fetch_max_wait_ms) == (50, 10)
    assert live.kafka_end_at_highwater
    assert live.projection_fold_process is False
    assert Settings().kafka_poll_timeout_ms is None  # one-off commands keep the log's default
    monkeypatch.setenv("SERVICETRACE_KAFKA_POLL_TIMEOUT_MS", "120")
    monkeypatch.setenv("SERVICETRACE_KAFKA_END_AT_HIGHWATER", "false")
    configured = Settings().for_following()
    assert configured.kafka_poll_timeout_ms == 120
    assert not configured.kafka_end_at_highwater
