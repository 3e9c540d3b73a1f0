"""What the projections are configured with: episode chaining, the contact policy, unit costs.

One TOML file (``projections.toml`` in the data directory, or the path given by
``SERVICETRACE_PROJECTIONS``) overrides any subset of the defaults below; unknown keys, bad
times and unknown time zones fail on load with the key that is wrong, before anything is
projected. The models are frozen, so a fold can never change the rules it runs under.

Changing any of these values changes what the folds compute: rebuild the views afterwards
(projected rows are never silently re-interpreted under new rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from events.taxonomy import REAL_TIME_CHANNELS, Channel, Kind
from projections.config_file import read_toml, validated

__all__ = [
    "ContactPolicy",
    "ProjectionConfig",
    "ScenePolicy",
    "UnitCosts",
    "Window",
    "load_projection_config",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class ScenePolicy(BaseModel):
    """How touchpoints chain into episodes, and when a resolution counts as first-contact."""

    model_config = _FROZEN

    #: Touchpoints without a case link join the open episode of the same customer and service
    #: type when they come within this many days of its last activity.
    gap_days: float = Field(7.0, gt=0)
    #: A resolution is first-contact only if no further inbound contact on the service type
    #: follows within this many days.
    fcr_window_days: float = Field(7.0, gt=0)


class Window(BaseModel):
    """A permitted span of local wall-clock time, start inclusive, end exclusive."""

    model_config = _FROZEN

    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end <= self.start:
            raise ValueError(f"window end {self.end} is not after its start {self.start}")
        return self


def _default_windows() -> tuple[Window, ...]:
    return (Window(start=time(9, 30), end=time(12, 0)), Window(start=time(14, 0), end=time(17, 30)))


class ContactPolicy(BaseModel):
    """Do-not-disturb rules for outbound contact (DESIGN.md, "Do not disturb")."""

    model_config = _FROZEN

    #: IANA zone of customers who report none (attribute ``customer_tz``); ``"local"`` means
    #: the UTC offset the touchpoint itself was recorded with.
    timezone: str = "local"
    windows: tuple[Window, ...] = Field(default_factory=_default_windows)
    #: ISO weekdays (1 = Monday) that are working days.
    working_days: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    holidays: frozenset[date] = frozenset()
    #: Service-critical kinds any hour allows (an outage notice must reach people at night).
    exempt_kinds: frozenset[Kind] = frozenset({Kind.OUTAGE_NOTICE, Kind.FIELD_VISIT})
    #: Channels that do not reach a person when sent (a letter arrives by post).
    exempt_channels: frozenset[Channel] = frozenset({Channel.LETTER, Channel.OTHER})
    #: Days without any contact after which the next contact must not be a real-time call.
    silence_days: float = Field(90.0, gt=0)
    real_time_channels: frozenset[Channel] = REAL_TIME_CHANNELS

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value != "local":
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("working_days")
    @classmethod
    def _iso_weekdays(cls, value: frozenset[int]) -> frozenset[int]:
        wrong = sorted(day for day in value if not 1 <= day <= 7)
        if wrong:
            raise ValueError(f"working days are ISO weekdays 1-7, not {wrong}")
        return value


#: Cost of one touchpoint by channel, in the organisation's currency: staffed real-time channels
#: cost the most, self-service and messages the least (industry orders of magnitude).
_DEFAULT_CHANNEL_COSTS: dict[Channel, float] = {
    Channel.PHONE: 6.0,
    Channel.IVR: 0.4,
    Channel.COUNTER: 9.0,
    Channel.WEB: 0.2,
    Channel.APP: 0.15,
    Channel.SOCIAL: 2.5,
    Channel.SMS: 0.05,
    Channel.EMAIL: 1.5,
    Channel.CHAT: 2.0,
    Channel.FIELD: 85.0,
    Channel.VIDEO: 7.0,
    Channel.LETTER: 3.0,
    Channel.OTHER: 1.0,
}
#: Records that cost nothing by themselves: the work is in the contact they belong to.
_DEFAULT_FREE_KINDS: frozenset[Kind] = frozenset(
    {
        Kind.CASE_ASSIGNED,
        Kind.CASE_CLOSED,
        Kind.AGENT_WARNING_SHOWN,
        Kind.APPOINTMENT_MISSED,
        Kind.CALLBACK_PROMISED,
    }
)


class UnitCosts(BaseModel):
    """Unit cost of a touchpoint: a per-(channel, kind) override, else a per-channel cost."""

    model_config = _FROZEN

    channels: Mapping[Channel, float] = Field(default_factory=lambda: dict(_DEFAULT_CHANNEL_COSTS))
    #: ``{"field": {"field_visit": 120.0}}``: overrides for one kind on one channel.
    kinds: Mapping[Channel, Mapping[Kind, float]] = Field(default_factory=dict)
    free_kinds: frozenset[Kind] = _DEFAULT_FREE_KINDS

    @field_validator("channels", mode="before")
    @classmethod
    def _over_defaults(cls, value: Any) -> Any:
        """A file names the channels it changes; the others keep their default cost."""
        if isinstance(value, Mapping):
            return {**{c.value: cost for c, cost in _DEFAULT_CHANNEL_COSTS.items()}, **value}
        return value

    @model_validator(mode="after")
    def _non_negative(self) -> UnitCosts:
        for channel, cost in self.channels.items():
            if cost < 0:
                raise ValueError(f"cost of channel {channel} is negative: {cost}")
        for channel, kinds in self.kinds.items():
            for kind, cost in kinds.items():
                if cost < 0:
                    raise ValueError(f"cost of {kind} on {channel} is negative: {cost}")
        return self

    def cost(self, channel: str, kind: str) -> float:
        """Unit cost of one touchpoint of ``kind`` on ``channel``."""
        override = self.kinds.get(channel, {}).get(kind)  # type: ignore[call-overload]
        if override is not None:
            return float(override)
        if kind in self.free_kinds:
            return 0.0
        return float(self.channels.get(channel, 0.0))  # type: ignore[call-overload]

    def table(self) -> dict[str, float]:
        """Every ``"channel/kind"`` pair with its cost, for SQL that prices journey rows."""
        return {
            f"{channel.value}/{kind.value}": self.cost(channel.value, kind.value)
            for channel in Channel
            for kind in Kind
        }


class ProjectionConfig(BaseModel):
    """Everything the projections are configured with; defaults when no file is given."""

    model_config = _FROZEN

    scenes: ScenePolicy = Field(default_factory=ScenePolicy)
    contact_policy: ContactPolicy = Field(default_factory=ContactPolicy)
    costs: UnitCosts = Field(default_factory=UnitCosts)


def load_projection_config(path: Path | None) -> ProjectionConfig:
    """The configuration in ``path`` (a TOML file) over the defaults; defaults when ``None``."""
    if path is None:
        return ProjectionConfig()
    raw = read_toml(path, "projection config")
    return validated(ProjectionConfig, raw, path, "projection config")
