"""The risk rules' configuration: one TOML table per rule, each with its version and parameters.

A rule's ``version`` is part of every decision it makes (provenance) and of the decision's id:
changing a parameter without bumping the version would make two different decisions share an
id, so an operator changes both together (``servicetrace whatif`` compares candidates first).

Example (every key optional; the defaults are the ones below)::

    [rules.repeat_request]
    version = 1
    threshold = 3              # inbound requests / inquiries / complaints ...
    window_hours = 168         # ... from one customer on one service type within 7 days
    kinds = ["service_request", "inquiry", "complaint", "report"]

    [rules.sensitive_customer]
    version = 1
    threshold = 2              # complaints or dissatisfied feedback on one service type ...
    window_days = 30           # ... within 30 days mark the customer sensitive
    max_score = 2              # feedback at or below this score is dissatisfied
    expiry_days = 90           # the flag lapses after 90 days without a new complaint

    [rules.sla_overdue]
    deadline_hours = 48

A table with ``enabled = false`` switches its rule off.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from events.errors import ConfigurationError
from events.taxonomy import Kind
from projections.config_file import read_toml, validated

__all__ = [
    "AgentWarningRule",
    "ChannelHoppingRule",
    "DndViolationRule",
    "RepeatRequestRule",
    "RuleSet",
    "SensitiveCustomerRule",
    "SlaOverdueRule",
    "load_rules",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Rule(BaseModel):
    """What every rule has: a version (provenance) and a switch."""

    model_config = _FROZEN

    version: int = Field(default=1, ge=1)
    enabled: bool = True
    severity: str = Field(default="warning", pattern="^(info|warning|critical)$")


class RepeatRequestRule(Rule):
    threshold: int = Field(default=3, ge=2)
    window_hours: float = Field(default=168, gt=0)
    kinds: frozenset[Kind] = frozenset(
        {Kind.SERVICE_REQUEST, Kind.INQUIRY, Kind.COMPLAINT, Kind.REPORT}
    )


class SensitiveCustomerRule(Rule):
    threshold: int = Field(default=2, ge=1)
    window_days: float = Field(default=30, gt=0)
    max_score: int = Field(default=2, ge=1, le=5)
    expiry_days: float = Field(default=90, gt=0)


class AgentWarningRule(Rule):
    severity: str = Field(default="info", pattern="^(info|warning|critical)$")
    #: Inbound kinds that are not a contact an agent answers (no one to warn).
    not_contacts: frozenset[Kind] = frozenset({Kind.FEEDBACK, Kind.SELF_SERVICE})


class ChannelHoppingRule(Rule):
    threshold: int = Field(default=3, ge=2)
    window_hours: float = Field(default=48, gt=0)


class SlaOverdueRule(Rule):
    severity: str = Field(default="critical", pattern="^(info|warning|critical)$")
    deadline_hours: float = Field(default=48, gt=0)


class DndViolationRule(Rule):
    pass


class RuleSet(BaseModel):
    """Every rule's settings; the contact policy ``dnd_violation`` uses is the projections'."""

    model_config = _FROZEN

    repeat_request: RepeatRequestRule = Field(default_factory=RepeatRequestRule)
    sensitive_customer: SensitiveCustomerRule = Field(default_factory=SensitiveCustomerRule)
    agent_warning: AgentWarningRule = Field(default_factory=AgentWarningRule)
    channel_hopping: ChannelHoppingRule = Field(default_factory=ChannelHoppingRule)
    sla_overdue: SlaOverdueRule = Field(default_factory=SlaOverdueRule)
    dnd_violation: DndViolationRule = Field(default_factory=DndViolationRule)

    def versions(self) -> dict[str, int]:
        """Rule id → version, for the rules switched on."""
        return {
            name: rule.version
            for name in type(self).model_fields
            if (rule := getattr(self, name)).enabled
        }


def load_rules(path: Path | None) -> RuleSet:
    """The rules in ``path`` (TOML, a ``[rules.<id>]`` table per rule) over the defaults."""
    if path is None:
        return RuleSet()
    raw = read_toml(path, "rules")
    unknown = set(raw) - {"rules"}
    if unknown:
        raise ConfigurationError(f"rules {path}: unknown top-level keys {sorted(unknown)}")
    return validated(RuleSet, raw.get("rules", {}), path, "rules", prefix="rules.")
