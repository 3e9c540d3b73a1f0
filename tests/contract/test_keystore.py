"""The key-store contract, run against every backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from events.keys import KeyStore
from events.keys.memory import MemoryKeyStore
from events.keys.sqlite import SqliteKeyStore


class KeyStoreContract:
    def test_a_customer_keeps_one_live_key(self, store: KeyStore) -> None:
        first = store.key_for("C1")
        assert store.key_for("C1") == first
        assert len(first.material) == 32
        assert store.key_for("C2").key_id != first.key_id

    def test_keys_are_found_by_id(self, store: KeyStore) -> None:
        key = store.key_for("C1")
        assert store.get(key.key_id) == key
        assert store.get("no-such-key") is None

    def test_many_keys_at_once_agree_with_one_at_a_time(self, store: KeyStore) -> None:
        single = store.key_for("C1")
        many = store.keys_for(["C1", "C2", "C3", "C2"])
        assert set(many) == {"C1", "C2", "C3"}
        assert many["C1"] == single
        assert store.key_for("C3") == many["C3"]

    def test_many_keys_from_a_generator(self, store: KeyStore) -> None:
        keys = store.keys_for(cid for cid in ("C7", "C8"))
        assert set(keys) == {"C7", "C8"}

    def test_destroying_erases_every_key_of_the_customer(self, store: KeyStore) -> None:
        old = store.key_for("C1")
        other = store.key_for("C2")
        assert store.destroy("C1") == 1
        assert store.get(old.key_id) is None
        assert store.get(other.key_id) == other
        fresh = store.key_for("C1")
        assert fresh.key_id != old.key_id, "a returning customer gets a new key"

    def test_destroying_again_or_an_unknown_customer_destroys_nothing(
        self, store: KeyStore
    ) -> None:
        store.key_for("C1")
        assert store.destroy("C1") == 1
        assert store.destroy("C1") == 0
        assert store.destroy("never-seen") == 0

    def test_many_keys_after_a_destroy_are_new_ones(self, store: KeyStore) -> None:
        old = store.keys_for(["C1", "C2"])
        store.destroy("C1")
        new = store.keys_for(["C1", "C2"])
        assert new["C1"].key_id != old["C1"].key_id and new["C2"] == old["C2"]
        assert store.get(old["C1"].key_id) is None


class TestMemoryKeyStore(KeyStoreContract):
    @pytest.fixture
    def store(self) -> Iterator[KeyStore]:
        yield MemoryKeyStore()


class TestSqliteKeyStore(KeyStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[KeyStore]:
        store = SqliteKeyStore(tmp_path / "keys.sqlite")
        yield store
        store.close()

    def test_keys_survive_a_reopen_and_are_shared_between_handles(self, tmp_path: Path) -> None:
        path = tmp_path / "k.sqlite"
        a, b = SqliteKeyStore(path), SqliteKeyStore(path)
        key = a.key_for("C1")
        assert b.key_for("C1") == key, "two handles (processes) agree on one key"
        a.close()
        assert SqliteKeyStore(path).get(key.key_id) == key
        b.close()

    def test_a_destroy_by_another_handle_is_seen_at_once(self, tmp_path: Path) -> None:
        """The API process keeps its handle open while ``servicetrace erase`` (another
        process, another handle) destroys a key: the API must stop opening at once."""
        path = tmp_path / "k.sqlite"
        api, eraser = SqliteKeyStore(path), SqliteKeyStore(path)
        key = api.key_for("C1")
        kept = api.key_for("C2")
        assert api.get(key.key_id) == key, "cached in the API's handle"
        assert eraser.destroy("C1") == 1
        assert api.get(key.key_id) is None
        assert api.get(kept.key_id) == kept
        api.close()
        eraser.close()

    def test_destroyed_material_leaves_the_file_and_its_wal(self, tmp_path: Path) -> None:
        path = tmp_path / "k.sqlite"
        store = SqliteKeyStore(path)
        doomed, kept = store.key_for("C1"), store.key_for("C2")

        def files() -> bytes:
            return b"".join(p.read_bytes() for p in tmp_path.glob("k.sqlite*"))

        assert doomed.material in files()
        store.destroy("C1")
        assert doomed.material not in files()
        assert kept.material in files()
        store.close()
