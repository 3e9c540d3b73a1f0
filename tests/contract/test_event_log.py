"""The event-log contract run against every backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from events.log import Entry, EventLog
from events.log.kafka import KafkaEventLog, KafkaLogConfig
from events.log.memory import MemoryEventLog
from events.log.sqlite import SqliteEventLog
from tests.contract.event_log_contract import EventLogContract


class TestMemoryEventLog(EventLogContract):
    @pytest.fixture
    def log(self) -> Iterator[EventLog]:
        yield MemoryEventLog(partitions=self.PARTITIONS)


class TestSqliteEventLog(EventLogContract):
    @pytest.fixture
    def log(self, tmp_path: Path) -> Iterator[EventLog]:
        with SqliteEventLog(tmp_path / "log.sqlite", partitions=self.PARTITIONS) as log:
            yield log

    def test_the_log_survives_a_reopen(self, tmp_path: Path) -> None:
        path = tmp_path / "durable.sqlite"
        with SqliteEventLog(path, partitions=2) as log:
            first = log.append([Entry("e-1", "k", b"v")])[0]
            log.positions.commit("journey", {first.partition: 1})
        with SqliteEventLog(path, partitions=5) as reopened:
            assert reopened.partitions == 2, "partition count is fixed at creation"
            assert reopened.append([Entry("e-1", "k", b"v")])[0].duplicate
            assert reopened.positions.get("journey") == {first.partition: 1}


@pytest.mark.kafka
class TestKafkaEventLog(EventLogContract):
    @pytest.fixture
    def log(
        self, kafka_bootstrap: str, kafka_topic_name: str, tmp_path: Path
    ) -> Iterator[EventLog]:
        config = KafkaLogConfig(
            kafka_bootstrap,
            topic=kafka_topic_name,
            partitions=self.PARTITIONS,
            index_path=tmp_path / "kafka-index.db",
            poll_timeout_ms=250,
        )
        with KafkaEventLog(config) as log:
            yield log
