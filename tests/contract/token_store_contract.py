"""The token store contract: what every backend of :class:`TokenStore` must do.

Subclasses provide a ``store`` fixture (a fresh, empty store). The suite drives the store
through :class:`~services.security.Tokens`, as the API does, and directly.
"""

from __future__ import annotations

import threading

import pytest

from services.security import Role, TokenRecord, Tokens, TokenStore

PEPPER = b"contract-pepper-0123456789"


class TokenStoreContract:
    @pytest.fixture
    def store(self) -> TokenStore:  # pragma: no cover - provided by each backend
        raise NotImplementedError

    def test_a_new_store_is_empty(self, store: TokenStore) -> None:
        assert list(store.list()) == []
        assert store.get("0123456789ab") is None

    def test_records_come_back_whole_and_in_order(self, store: TokenStore) -> None:
        first = TokenRecord("aaaaaaaaaaaa", "zoe", (Role.AGENT,), "d" * 64, "2026-05-01T00:00:00")
        second = TokenRecord(
            "000000000001", "al", (Role.AUDITOR, Role.SUPERVISOR), "e" * 64, "2026-05-02T00:00:00"
        )
        store.add(first)
        store.add(second)
        assert store.get(first.token_id) == first
        assert store.get(second.token_id) == second
        assert [r.token_id for r in store.list()] == [first.token_id, second.token_id]

    def test_an_id_is_never_stored_twice(self, store: TokenStore) -> None:
        record = TokenRecord("aaaaaaaaaaaa", "zoe", (Role.AGENT,), "d" * 64, "2026-05-01")
        store.add(record)
        with pytest.raises(ValueError, match="already exists"):
            store.add(record)
        assert len(store.list()) == 1

    def test_revocation_is_kept_and_happens_once(self, store: TokenStore) -> None:
        record = TokenRecord("aaaaaaaaaaaa", "zoe", (Role.AGENT,), "d" * 64, "2026-05-01")
        store.add(record)
        assert store.mark_revoked(record.token_id, "2026-05-03")
        assert not store.mark_revoked(record.token_id, "2026-05-04")
        assert not store.mark_revoked("bbbbbbbbbbbb", "2026-05-04")
        kept = store.get(record.token_id)
        assert kept is not None and kept.revoked_at == "2026-05-03" and not kept.active

    def test_tokens_issued_authenticate_until_revoked(self, store: TokenStore) -> None:
        tokens = Tokens(store, PEPPER)
        issued = tokens.create("ana", ["supervisor"])
        principal = tokens.authenticate(issued.secret)
        assert principal is not None and principal.name == "ana"
        assert principal.roles == (Role.SUPERVISOR,)
        tokens.revoke(issued.record.token_id)
        assert tokens.authenticate(issued.secret) is None

    def test_only_a_digest_is_stored(self, store: TokenStore) -> None:
        issued = Tokens(store, PEPPER).create("ana", ["agent"])
        (record,) = store.list()
        secret = issued.secret.split("_", 2)[2]
        assert secret not in repr(record)
        assert record.digest != secret and len(record.digest) == 64

    def test_concurrent_checks_and_issues_are_consistent(self, store: TokenStore) -> None:
        tokens = Tokens(store, PEPPER)
        issued = [tokens.create(f"user{i}", ["agent"]) for i in range(4)]
        failures: list[str] = []

        def check(secret: str) -> None:
            for _ in range(25):
                if tokens.authenticate(secret) is None:
                    failures.append(secret)

        threads = [threading.Thread(target=check, args=(t.secret,)) for t in issued]
        threads.append(threading.Thread(target=lambda: tokens.create("late", ["admin"])))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        assert len(store.list()) == 5
