"""Who is calling: the principal a bearer token stands for."""

from __future__ import annotations

from dataclasses import dataclass

from services.security.roles import Capability, Role, capabilities_of

__all__ = ["Principal"]


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller authenticated by a token: its name (recorded as who read or acted), its roles
    and what they allow."""

    token_id: str
    name: str
    roles: tuple[Role, ...]

    @property
    def capabilities(self) -> frozenset[Capability]:
        return capabilities_of(self.roles)

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities
