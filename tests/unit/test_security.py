"""Roles, capabilities and tokens (pure: the in-memory store, a seeded source of bytes)."""

from __future__ import annotations

import random

import pytest

from services.security import (
    ROLE_CAPABILITIES,
    Capability,
    InvalidTokenRequest,
    Role,
    TokenNotFound,
    Tokens,
    capabilities_of,
    parse_token,
)
from services.security.memory import MemoryTokenStore
from services.security.roles import parse_roles

PEPPER = b"unit-test-pepper-0123456789"


def tokens(seed: int = 1) -> Tokens:
    rng = random.Random(seed)
    moments = iter(f"2026-05-0{day}T10:00:00+00:00" for day in range(1, 10))
    return Tokens(MemoryTokenStore(), PEPPER, lambda: next(moments), rng.randbytes)


def test_every_role_has_a_row_and_admin_can_do_everything() -> None:
    assert set(ROLE_CAPABILITIES) == set(Role)
    assert ROLE_CAPABILITIES[Role.ADMIN] == frozenset(Capability)
    granted = frozenset().union(*ROLE_CAPABILITIES.values())
    assert granted == frozenset(Capability), "a capability no role has is dead code"


def test_personal_fields_are_for_agents_and_admins_only() -> None:
    revealing = {role for role in Role if Capability.PERSONAL_READ in ROLE_CAPABILITIES[role]}
    assert revealing == {Role.AGENT, Role.ADMIN}


def test_ingest_only_posts_and_reads_trail_and_tokens_are_admin_only() -> None:
    assert ROLE_CAPABILITIES[Role.INGEST] == {Capability.TOUCHPOINTS_WRITE}
    for capability in (Capability.READS_READ, Capability.TOKENS_MANAGE):
        assert {r for r in Role if capability in ROLE_CAPABILITIES[r]} == {Role.ADMIN}


def test_capabilities_of_several_roles_is_their_union() -> None:
    both = capabilities_of([Role.AGENT, Role.INGEST])
    assert both == ROLE_CAPABILITIES[Role.AGENT] | ROLE_CAPABILITIES[Role.INGEST]


def test_parse_roles_normalises_and_names_an_unknown_role() -> None:
    assert parse_roles(["Auditor", "agent", "auditor"]) == (Role.AGENT, Role.AUDITOR)
    with pytest.raises(ValueError, match=r"unknown role 'root'.*ingest, agent"):
        parse_roles(["root"])
    with pytest.raises(ValueError, match="at least one role"):
        parse_roles([])


@pytest.mark.parametrize(
    "text",
    ["", "st_", "st_abc_secret", "xx_0123456789ab_secret", "st_0123456789ab_", "Bearer st_x"],
)
def test_malformed_tokens_do_not_parse(text: str) -> None:
    assert parse_token(text) is None


def test_a_token_authenticates_as_its_name_and_roles() -> None:
    store = tokens()
    issued = store.create("ana", ["supervisor", "auditor"])
    assert issued.secret.startswith(f"st_{issued.record.token_id}_")
    principal = store.authenticate(issued.secret)
    assert principal is not None
    assert (principal.name, principal.roles) == ("ana", (Role.AUDITOR, Role.SUPERVISOR))
    assert principal.can(Capability.ALERTS_ACT) and principal.can(Capability.EXPORTS_CREATE)
    assert not principal.can(Capability.PERSONAL_READ)


def test_the_store_keeps_a_keyed_hash_never_the_secret() -> None:
    store = tokens()
    issued = store.create("ana", ["agent"])
    record = store.store.get(issued.record.token_id)
    assert record is not None
    secret_part = issued.secret.split("_", 2)[2]
    assert secret_part not in repr(record) and issued.secret not in repr(record)
    assert len(record.digest) == 64
    other_pepper = Tokens(store.store, b"another-pepper-0123456789")
    assert other_pepper.authenticate(issued.secret) is None


def test_a_wrong_secret_an_unknown_id_and_a_revoked_token_are_refused() -> None:
    store = tokens()
    issued = store.create("ana", ["agent"])
    token_id = issued.record.token_id
    assert (
        store.authenticate(issued.secret[:-1] + ("A" if issued.secret[-1] != "A" else "B")) is None
    )
    assert store.authenticate(f"st_{'f' * 12}_{issued.secret.split('_', 2)[2]}") is None
    revoked = store.revoke(token_id)
    assert revoked.revoked_at == "2026-05-02T10:00:00+00:00"
    assert store.authenticate(issued.secret) is None
    assert store.revoke(token_id).revoked_at == revoked.revoked_at, "revoking again changes nothing"


def test_revoking_an_unknown_token_names_it() -> None:
    with pytest.raises(TokenNotFound, match="no token 'feedfeedfeed'"):
        tokens().revoke("feedfeedfeed")


@pytest.mark.parametrize("name", ["", " ana", "a" * 65, "ana\nadmin", "ana;drop"])
def test_names_that_cannot_be_recorded_safely_are_refused(name: str) -> None:
    with pytest.raises(InvalidTokenRequest, match="token name"):
        tokens().create(name, ["agent"])


def test_an_unknown_role_is_refused_when_issuing() -> None:
    with pytest.raises(InvalidTokenRequest, match="unknown role 'root'"):
        tokens().create("ana", ["root"])


def test_any_counts_revoked_tokens_too() -> None:
    store = tokens()
    assert not store.any()
    issued = store.create("first", ["admin"])
    store.revoke(issued.record.token_id)
    assert store.any()
    assert [r.name for r in store.list()] == ["first"]
