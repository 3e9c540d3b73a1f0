"""Projection configuration: defaults, TOML overrides, errors naming the bad key, unit costs."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest
from pydantic import ValidationError

from events.errors import ConfigurationError
from events.taxonomy import REAL_TIME_CHANNELS, Channel, Kind
from projections.policy import (
    ContactPolicy,
    ProjectionConfig,
    ScenePolicy,
    UnitCosts,
    Window,
    load_projection_config,
)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "projections.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- defaults ----------------------------------------------------------------------------------


def test_no_file_means_defaults() -> None:
    assert load_projection_config(None) == ProjectionConfig()


def test_scene_policy_defaults() -> None:
    policy = ScenePolicy()
    assert policy.gap_days == 7.0
    assert policy.fcr_window_days == 7.0


def test_contact_policy_defaults() -> None:
    policy = ContactPolicy()
    assert policy.timezone == "local"
    assert policy.windows == (
        Window(start=time(9, 30), end=time(12, 0)),
        Window(start=time(14, 0), end=time(17, 30)),
    )
    assert policy.working_days == frozenset({1, 2, 3, 4, 5})
    assert policy.holidays == frozenset()
    assert policy.exempt_kinds == frozenset({Kind.OUTAGE_NOTICE, Kind.FIELD_VISIT})
    assert policy.exempt_channels == frozenset({Channel.LETTER, Channel.OTHER})
    assert policy.silence_days == 90.0
    assert policy.real_time_channels == REAL_TIME_CHANNELS


def test_default_unit_costs() -> None:
    costs = UnitCosts()
    assert costs.cost("phone", "inquiry") == 6.0
    assert costs.cost("field", "field_visit") == 85.0
    assert costs.cost("sms", "notification_sent") == 0.05
    # Bookkeeping records cost nothing by themselves.
    for kind in ("case_assigned", "case_closed", "appointment_missed", "callback_promised"):
        assert costs.cost("phone", kind) == 0.0


def test_models_are_frozen() -> None:
    policy = ScenePolicy()
    with pytest.raises(ValidationError):
        policy.gap_days = 3.0


# -- TOML overrides ----------------------------------------------------------------------------


def test_toml_overrides_a_subset(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
[scenes]
gap_days = 3

[contact_policy]
timezone = "Europe/Berlin"
windows = [{ start = 08:00:00, end = 20:00:00 }]
working_days = [1, 2, 3, 4, 5, 6]
holidays = [2026-01-06]
exempt_kinds = ["outage_notice"]
silence_days = 30

[costs.channels]
phone = 7.5

[costs.kinds.field]
field_visit = 120.0
""",
    )
    config = load_projection_config(path)
    assert config.scenes == ScenePolicy(gap_days=3, fcr_window_days=7)
    policy = config.contact_policy
    assert policy.timezone == "Europe/Berlin"
    assert policy.windows == (Window(start=time(8), end=time(20)),)
    assert policy.working_days == frozenset({1, 2, 3, 4, 5, 6})
    assert policy.holidays == frozenset({date(2026, 1, 6)})
    assert policy.exempt_kinds == frozenset({Kind.OUTAGE_NOTICE})
    # Keys not given keep their defaults.
    assert policy.exempt_channels == frozenset({Channel.LETTER, Channel.OTHER})
    assert policy.silence_days == 30
    assert config.costs.cost("phone", "inquiry") == 7.5
    assert config.costs.cost("field", "field_visit") == 120.0
    assert config.costs.cost("phone", "case_assigned") == 0.0
    assert config.costs.cost("sms", "notification_sent") == 0.05, "unlisted channels keep defaults"


def test_window_times_as_strings(tmp_path: Path) -> None:
    path = _write(tmp_path, '[contact_policy]\nwindows = [{ start = "07:15", end = "21:45" }]\n')
    policy = load_projection_config(path).contact_policy
    assert policy.windows == (Window(start=time(7, 15), end=time(21, 45)),)


def test_empty_file_is_defaults(tmp_path: Path) -> None:
    assert load_projection_config(_write(tmp_path, "")) == ProjectionConfig()


# -- errors name the key -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("[scenes]\ngapdays = 3\n", ["scenes.gapdays", "Extra inputs"]),
        ("[sceens]\ngap_days = 3\n", ["sceens", "Extra inputs"]),
        ("[contact_policy]\nquiet_hours = 3\n", ["contact_policy.quiet_hours"]),
        (
            "[contact_policy]\nwindows = [{ start = 12:00:00, end = 09:00:00 }]\n",
            ["contact_policy.windows.0", "not after its start"],
        ),
        (
            "[contact_policy]\nwindows = [{ start = 12:00:00, end = 12:00:00 }]\n",
            ["contact_policy.windows.0"],
        ),
        (
            "[contact_policy]\ntimezone = 'Mars/Olympus_Mons'\n",
            ["contact_policy.timezone", "unknown time zone 'Mars/Olympus_Mons'"],
        ),
        ("[costs.channels]\nphone = -1.0\n", ["costs", "channel phone is negative"]),
        (
            "[costs.kinds.field]\nfield_visit = -5\n",
            ["costs", "field_visit on field is negative"],
        ),
        ("[costs.channels]\npigeon = 1.0\n", ["costs.channels.pigeon"]),
        ("[scenes]\ngap_days = 0\n", ["scenes.gap_days", "greater than 0"]),
        ("[scenes]\nfcr_window_days = -1\n", ["scenes.fcr_window_days"]),
        ("[contact_policy]\nsilence_days = 0\n", ["contact_policy.silence_days"]),
        ("[contact_policy]\nworking_days = [1, 8]\n", ["contact_policy.working_days", "[8]"]),
        ("[contact_policy]\nexempt_kinds = ['nap']\n", ["contact_policy.exempt_kinds"]),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, fragments: list[str]) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigurationError) as caught:
        load_projection_config(path)
    message = str(caught.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_invalid_toml_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_projection_config(_write(tmp_path, "[scenes\n"))


def test_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read projection config"):
        load_projection_config(tmp_path / "absent.toml")


def test_window_order_is_checked_directly() -> None:
    with pytest.raises(ValidationError, match="not after its start"):
        Window(start=time(17, 30), end=time(14, 0))


def test_policy_zone_is_checked_directly() -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        ContactPolicy(timezone="Nowhere/Special")
    assert ContactPolicy(timezone="Asia/Shanghai").timezone == "Asia/Shanghai"


# -- unit costs --------------------------------------------------------------------------------


def test_kind_override_beats_channel_cost_and_free_kinds() -> None:
    costs = UnitCosts(
        kinds={
            Channel.FIELD: {Kind.FIELD_VISIT: 120.0},
            Channel.PHONE: {Kind.CALLBACK_PROMISED: 0.5},
        }
    )
    assert costs.cost("field", "field_visit") == 120.0
    # The override is per channel: the same kind elsewhere keeps the channel's cost.
    assert costs.cost("counter", "field_visit") == 9.0
    # An override wins even over a free kind.
    assert costs.cost("phone", "callback_promised") == 0.5
    assert costs.cost("email", "callback_promised") == 0.0


def test_free_kinds_can_be_replaced() -> None:
    costs = UnitCosts(free_kinds=frozenset({Kind.SURVEY_SENT}))
    assert costs.cost("email", "survey_sent") == 0.0
    assert costs.cost("phone", "case_assigned") == 6.0


def test_unknown_channel_costs_nothing() -> None:
    assert UnitCosts().cost("carrier_pigeon", "inquiry") == 0.0


def test_negative_costs_are_rejected() -> None:
    with pytest.raises(ValidationError, match="negative"):
        UnitCosts(channels={Channel.PHONE: -0.01})
    with pytest.raises(ValidationError, match="negative"):
        UnitCosts(kinds={Channel.FIELD: {Kind.FIELD_VISIT: -1.0}})


def test_cost_table_prices_every_pair() -> None:
    costs = UnitCosts(kinds={Channel.FIELD: {Kind.FIELD_VISIT: 120.0}})
    table = costs.table()
    assert len(table) == len(Channel) * len(Kind)
    assert table["field/field_visit"] == 120.0
    assert table["phone/inquiry"] == 6.0
    assert table["phone/case_assigned"] == 0.0
