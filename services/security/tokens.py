"""API tokens: issued once, stored only as a keyed hash, checked in constant time.

A token reads ``st_<id>_<secret>``: the id (12 hex digits) names the stored record and is no
secret (it appears in ``servicetrace token list`` and in logs); the secret is 32 random bytes
(base64url). The store keeps ``HMAC-SHA256(pepper, id:secret)``, never the secret: a copy of
the token database alone (a backup, a stolen file) lets nobody call the API, and without the
deployment's pepper the digests cannot even be brute-forced offline. The presented secret is
hashed the same way and compared with :func:`hmac.compare_digest`.

:class:`Tokens` is the application over the :class:`TokenStore` port (backends:
:mod:`.memory`, :mod:`.sqlite`, :mod:`.postgres`, all passing
``tests/contract/token_store_contract.py``).
"""

from __future__ import annotations

import abc
import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from events.errors import ServicetraceError
from events.resources import Closing
from services.moments import wall_clock
from services.security.principal import Principal
from services.security.roles import Role, parse_roles

__all__ = [
    "InvalidTokenRequest",
    "IssuedToken",
    "TokenNotFound",
    "TokenRecord",
    "TokenStore",
    "Tokens",
    "parse_token",
]

_PREFIX = "st"
_ID = re.compile(r"^[0-9a-f]{12}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class TokenNotFound(ServicetraceError, LookupError):
    """No token has that id."""


class InvalidTokenRequest(ServicetraceError, ValueError):
    """A token cannot be issued as asked (a bad name, an unknown role)."""


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """What the store keeps of a token: everything but the secret."""

    token_id: str
    name: str
    roles: tuple[Role, ...]
    digest: str
    created_at: str
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_json(self) -> dict[str, object]:
        """The record as people and programs see it (the digest stays inside)."""
        return {
            "token_id": self.token_id,
            "name": self.name,
            "roles": [role.value for role in self.roles],
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: its record and the secret, shown to its owner once and never again."""

    record: TokenRecord
    secret: str


class TokenStore(Closing, abc.ABC):
    """Port: keep token records by id."""

    @abc.abstractmethod
    def add(self, record: TokenRecord) -> None:
        """Keep a new record; :class:`ValueError` when its id is taken (ids are random: a
        clash is a bug, never an overwrite)."""

    @abc.abstractmethod
    def get(self, token_id: str) -> TokenRecord | None:
        """The record with this id, revoked or not."""

    @abc.abstractmethod
    def list(self) -> Sequence[TokenRecord]:
        """Every record, oldest first."""

    @abc.abstractmethod
    def mark_revoked(self, token_id: str, when: str) -> bool:
        """Set the revocation time of an active token; whether it was active."""


def parse_token(presented: str) -> tuple[str, str] | None:
    """``(id, secret)`` of a token in the ``st_<id>_<secret>`` shape, else ``None``."""
    parts = presented.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != _PREFIX or not _ID.match(parts[1]) or not parts[2]:
        return None
    return parts[1], parts[2]


class Tokens:
    """Issue, check, list and revoke tokens (see the module doc).

    ``clock`` stamps creation and revocation (wall-clock times of people's actions);
    ``random_bytes`` is the source of ids and secrets (tests may pass a seeded one).
    """

    def __init__(
        self,
        store: TokenStore,
        pepper: bytes,
        clock: Callable[[], str] = wall_clock,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        self.store = store
        self._pepper = pepper
        self._clock = clock
        self._random = random_bytes

    def _digest(self, token_id: str, secret: str) -> str:
        message = f"{token_id}:{secret}".encode()
        return hmac.new(self._pepper, message, hashlib.sha256).hexdigest()

    def create(self, name: str, roles: Iterable[str]) -> IssuedToken:
        """A new token for ``name`` (who it acts as) with ``roles``."""
        if not _NAME.match(name):
            raise InvalidTokenRequest(
                f"token name {name!r}: 1-64 characters, letters, digits and . _ @ - "
                "(it is recorded as who read or acted)"
            )
        try:
            parsed = parse_roles(roles)
        except ValueError as exc:
            raise InvalidTokenRequest(str(exc)) from None
        token_id = self._random(6).hex()
        secret = base64.urlsafe_b64encode(self._random(32)).rstrip(b"=").decode()
        record = TokenRecord(
            token_id, name, parsed, self._digest(token_id, secret), created_at=self._clock()
        )
        self.store.add(record)
        return IssuedToken(record, f"{_PREFIX}_{token_id}_{secret}")

    def authenticate(self, presented: str) -> Principal | None:
        """The principal of an active token, else ``None`` (malformed, unknown, wrong secret
        and revoked all look the same to the caller)."""
        parsed = parse_token(presented)
        if parsed is None:
            return None
        token_id, secret = parsed
        record = self.store.get(token_id)
        digest = self._digest(token_id, secret)
        if record is None or not hmac.compare_digest(record.digest, digest):
            return None
        if not record.active:
            return None
        return Principal(record.token_id, record.name, record.roles)

    def list(self) -> list[TokenRecord]:
        return list(self.store.list())

    def any(self) -> bool:
        """Whether any token was ever issued here (revoked ones count: a deployment whose
        admin revoked every token must not hand a fresh admin token to whoever starts it)."""
        return bool(self.store.list())

    def revoke(self, token_id: str) -> TokenRecord:
        """Revoke the token; revoking a revoked token changes nothing."""
        record = self.store.get(token_id.strip().lower())
        if record is None:
            raise TokenNotFound(f"no token {token_id!r} (servicetrace token list shows the ids)")
        if record.active:
            self.store.mark_revoked(record.token_id, self._clock())
        return self.store.get(record.token_id) or record
