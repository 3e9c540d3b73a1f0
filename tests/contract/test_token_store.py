"""The token store contract run against every backend, and what lands on disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.security import Tokens, TokenStore, token_store
from services.security.memory import MemoryTokenStore
from services.security.postgres import PostgresTokenStore
from services.security.sqlite import SqliteTokenStore
from tests.contract.token_store_contract import PEPPER, TokenStoreContract


class TestMemoryTokenStore(TokenStoreContract):
    @pytest.fixture
    def store(self) -> Iterator[TokenStore]:
        yield MemoryTokenStore()


class TestSqliteTokenStore(TokenStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[TokenStore]:
        store = SqliteTokenStore(tmp_path / "tokens.sqlite")
        yield store
        store.close()


@pytest.mark.postgres
class TestPostgresTokenStore(TokenStoreContract):
    @pytest.fixture
    def store(self, postgres_url: str) -> Iterator[TokenStore]:
        store = PostgresTokenStore(postgres_url)
        yield store
        store.close()


def test_the_sqlite_file_never_holds_a_secret(tmp_path: Path) -> None:
    path = tmp_path / "tokens.sqlite"
    store = SqliteTokenStore(path)
    issued = [Tokens(store, PEPPER).create(f"user{i}", ["admin"]) for i in range(3)]
    store.close()
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("tokens"))
    assert b"user0" in data, "the file holds the records (names)"
    for token in issued:
        assert token.secret.split("_", 2)[2].encode() not in data
        assert token.secret.encode() not in data


def test_a_reopened_sqlite_store_still_authenticates(tmp_path: Path) -> None:
    path = tmp_path / "tokens.sqlite"
    first = SqliteTokenStore(path)
    issued = Tokens(first, PEPPER).create("ana", ["auditor"])
    first.close()
    again = SqliteTokenStore(path)
    try:
        assert Tokens(again, PEPPER).authenticate(issued.secret) is not None
    finally:
        again.close()


def test_urls_choose_the_backend(tmp_path: Path) -> None:
    assert isinstance(token_store("memory:"), MemoryTokenStore)
    store = token_store(f"sqlite:///{tmp_path / 't.sqlite'}")
    assert isinstance(store, SqliteTokenStore)
    store.close()
    from events.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="token store 'mysql://x'"):
        token_store("mysql://x")
