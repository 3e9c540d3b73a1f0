"""Access control: roles and their capabilities, the principal a token stands for, and the
token store (hashes only). See :mod:`.roles` for who may do what and :mod:`.tokens` for how
tokens are issued and checked."""

from __future__ import annotations

from services.security.principal import Principal
from services.security.roles import ROLE_CAPABILITIES, Capability, Role, capabilities_of
from services.security.tokens import (
    InvalidTokenRequest,
    IssuedToken,
    TokenNotFound,
    TokenRecord,
    Tokens,
    TokenStore,
    parse_token,
)

__all__ = [
    "ROLE_CAPABILITIES",
    "Capability",
    "InvalidTokenRequest",
    "IssuedToken",
    "Principal",
    "Role",
    "TokenNotFound",
    "TokenRecord",
    "TokenStore",
    "Tokens",
    "capabilities_of",
    "parse_token",
    "token_store",
]


def token_store(url: str) -> TokenStore:
    """The store at ``url``: ``memory:``, ``sqlite:///path`` or ``postgresql://…[?schema=]``."""
    from urllib.parse import unquote, urlsplit

    from events.errors import ConfigurationError

    parts = urlsplit(url)
    if parts.scheme == "memory":
        from services.security.memory import MemoryTokenStore

        return MemoryTokenStore()
    if parts.scheme == "sqlite" and unquote(parts.path).startswith("/") and not parts.netloc:
        from services.security.sqlite import SqliteTokenStore

        return SqliteTokenStore(unquote(parts.path))
    if parts.scheme in {"postgresql", "postgres"}:
        from services.security.postgres import PostgresTokenStore

        return PostgresTokenStore(url)
    raise ConfigurationError(
        f"token store {url!r}: use sqlite:///absolute/path, postgresql://user@host:port/db or "
        "memory:"
    )
