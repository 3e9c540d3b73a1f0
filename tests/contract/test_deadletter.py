"""The dead-letter contract run against every backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from events.deadletter import DeadLetterStore
from events.deadletter.kafka import KafkaDeadLetterStore
from events.deadletter.memory import MemoryDeadLetterStore
from events.deadletter.sqlite import SqliteDeadLetterStore
from tests.contract.deadletter_contract import DeadLetterContract


class TestMemoryDeadLetters(DeadLetterContract):
    @pytest.fixture
    def store(self) -> Iterator[DeadLetterStore]:
        yield MemoryDeadLetterStore()


class TestSqliteDeadLetters(DeadLetterContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[DeadLetterStore]:
        store = SqliteDeadLetterStore(tmp_path / "dead.sqlite")
        yield store
        store.close()


@pytest.mark.kafka
class TestKafkaDeadLetters(DeadLetterContract):
    @pytest.fixture
    def store(
        self, kafka_bootstrap: str, kafka_topic_name: str, tmp_path: Path
    ) -> Iterator[DeadLetterStore]:
        store = KafkaDeadLetterStore.connect(
            kafka_bootstrap, tmp_path / "dead-index.db", topic=kafka_topic_name, poll_timeout_ms=250
        )
        yield store
        store.close()
