"""Roles and what each may do: the one table every endpoint's check reads.

A token carries roles; an endpoint asks for one *capability*, never for a role, so a role's
reach is changed here and nowhere else. The table follows the people of the design: channels
and connectors post touchpoints (``ingest``); agents look up the customer on the line
(``agent``); supervisors work the alert board (``supervisor``); quality auditors replay,
score and export (``auditor``); operators run the deployment (``admin``).

Personal fields (name, phone, e-mail, address) are a capability of their own
(:attr:`Capability.PERSONAL_READ`): the agent needs them to recognise the caller, the admin to
answer a data-subject request; a supervisor or an auditor judges service, not identity, and sees
them masked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

__all__ = ["ROLE_CAPABILITIES", "Capability", "Role", "capabilities_of", "parse_roles"]


class Capability(StrEnum):
    """Something an endpoint may be asked to do."""

    TOUCHPOINTS_WRITE = "touchpoints:write"
    CUSTOMERS_READ = "customers:read"
    PERSONAL_READ = "personal:read"
    HISTORY_READ = "history:read"
    ANALYTICS_READ = "analytics:read"
    ALERTS_READ = "alerts:read"
    ALERTS_ACT = "alerts:act"
    EVALUATIONS_READ = "evaluations:read"
    EVALUATIONS_WRITE = "evaluations:write"
    EXPORTS_CREATE = "exports:create"
    READS_READ = "reads:read"
    TOKENS_MANAGE = "tokens:manage"
    METRICS_READ = "metrics:read"


class Role(StrEnum):
    INGEST = "ingest"
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMIN = "admin"


_C = Capability

#: Every role's capabilities. ``customers:read`` is a customer's current view, journey, scenes
#: and risk flag; ``history:read`` adds the as-of reconstruction and the step-through replay.
ROLE_CAPABILITIES: Mapping[Role, frozenset[Capability]] = {
    Role.INGEST: frozenset({_C.TOUCHPOINTS_WRITE}),
    Role.AGENT: frozenset({_C.CUSTOMERS_READ, _C.PERSONAL_READ}),
    Role.SUPERVISOR: frozenset(
        {
            _C.CUSTOMERS_READ,
            _C.ANALYTICS_READ,
            _C.ALERTS_READ,
            _C.ALERTS_ACT,
            _C.EVALUATIONS_READ,
            _C.METRICS_READ,
        }
    ),
    Role.AUDITOR: frozenset(
        {
            _C.CUSTOMERS_READ,
            _C.HISTORY_READ,
            _C.ANALYTICS_READ,
            _C.ALERTS_READ,
            _C.EVALUATIONS_READ,
            _C.EVALUATIONS_WRITE,
            _C.EXPORTS_CREATE,
        }
    ),
    Role.ADMIN: frozenset(Capability),
}


def capabilities_of(roles: Iterable[Role]) -> frozenset[Capability]:
    """Everything any of ``roles`` may do."""
    return frozenset().union(*(ROLE_CAPABILITIES[role] for role in roles))


def parse_roles(names: Iterable[str]) -> tuple[Role, ...]:
    """Role names as roles, sorted and without repeats; :class:`ValueError` names an unknown
    one and lists the known."""
    roles: set[Role] = set()
    for name in names:
        try:
            roles.add(Role(name.strip().lower()))
        except ValueError:
            known = ", ".join(role.value for role in Role)
            raise ValueError(f"unknown role {name!r} (roles: {known})") from None
    if not roles:
        raise ValueError("a token needs at least one role")
    return tuple(sorted(roles))
