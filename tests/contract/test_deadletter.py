"""The dead-letter contract run against every backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from events.deadletter import DeadLetterStore
from events.deadletter.kafka import KafkaDeadLetterStore
from events.deadletter.memory import MemoryDeadLetterStore
from events.deadletter.sealed import SealedDeadLetters
from events.deadletter.sqlite import SqliteDeadLetterStore
from events.keys.memory import MemoryKeyStore
from events.personal import PersonalVault
from tests.contract.deadletter_contract import DeadLetterContract, letter


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

    def test_scrubbed_contents_leave_the_file_and_its_wal(self, tmp_path: Path) -> None:
        path = tmp_path / "dead.sqlite"
        store = SqliteDeadLetterStore(path)
        secret = letter(1, payload='{"name": "Zelda Quixote", "email": "zq@example.org"}')
        store.put([secret, letter(2)])
        assert b"Zelda Quixote" in _bytes(path)
        store.scrub([secret.letter_id])
        assert b"Zelda Quixote" not in _bytes(path)
        assert b"zq@example.org" not in _bytes(path)
        store.close()


def _bytes(path: Path) -> bytes:
    """The database file and its write-ahead log, as they lie on disk."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


class TestSealedDeadLetters(DeadLetterContract):
    """The sealing wrapper platforms use keeps the same contract (over the memory backend)."""

    @pytest.fixture
    def store(self) -> Iterator[DeadLetterStore]:
        yield SealedDeadLetters(MemoryDeadLetterStore(), PersonalVault(MemoryKeyStore()))

    def test_a_sealed_letter_is_kept_as_sealed(self, store: DeadLetterStore) -> None:
        """Here a letter sealed under a key the vault does not have lists as scrubbed: without
        its key nobody can read it, which is what an erasure relies on."""
        plain = letter(3, payload='{"name": "Wang Fang"}')
        other = SealedDeadLetters(MemoryDeadLetterStore(), PersonalVault(MemoryKeyStore()))
        other.put([plain])
        (sealed,) = other.inner.list()
        assert sealed.envelope is not None and sealed.payload == ""
        assert store.put([sealed]) == 1
        (kept,) = store.list()
        assert kept.erased and kept.letter_id == plain.letter_id


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
