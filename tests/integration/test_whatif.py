"""What-if on the real ClickHouse engine and a SQLite decision store.

What must hold: the production rules themselves give no difference (suppressed agent warnings
included); a raised ``repeat_request`` threshold only takes alerts away or later on that rule;
a longer ``sla_overdue`` deadline moves that rule's alerts by exactly the difference; nothing
is written anywhere (decision store, decision logs, positions, views), and a second run gives
the same diff whatever the chunk size.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from events.log import EventLog
from projections.clickhouse import ViewStore
from projections.facts import HOUR_US
from projections.risk import RuleSet
from projections.risk.config import RepeatRequestRule, SlaOverdueRule
from replay.whatif import WhatIfDiff, Window
from services.platform import Platform
from services.settings import Settings
from services.whatif import diff_json, read_production, risk_backlog, run_whatif
from tests.integration.test_risk_engine import append, generated

TOUCHPOINTS = generated(customers=60, days=40, seed=11)
FIRST, LATER = TOUCHPOINTS[: len(TOUCHPOINTS) * 3 // 4], TOUCHPOINTS[len(TOUCHPOINTS) * 3 // 4 :]
PRODUCTION = RuleSet()


def decide(platform: Platform) -> None:
    """What ``servicetrace project`` does."""
    platform.projector.run_once()
    platform.risk_engine.run_once()
    platform.relay.run_once()


@pytest.fixture
def platform(tmp_path: Path, view_store: ViewStore) -> Iterator[Platform]:
    """Everything projected, decided and published; between the two halves a supervisor
    cleared the flag of every sensitive customer who calls again, so the store also holds
    suppressed agent warnings."""
    settings = Settings(
        home=tmp_path,
        log="memory",
        partitions=3,
        projection_batch_size=500,
        decisions=f"sqlite:///{tmp_path / 'decisions.sqlite'}",
    )
    with Platform(settings) as platform:
        platform.__dict__["view_store"] = view_store
        append(platform.log, FIRST)
        decide(platform)
        calling_again = {tp.customer_id for tp in LATER}
        for customer_id in sorted(calling_again):
            risk = platform.decisions.risk_of(customer_id)
            if risk is not None and risk.sensitive:
                platform.decisions.clear_flag(customer_id, by="lee", reason="test")
        append(platform.log, LATER)
        decide(platform)
        yield platform


def whatif(platform: Platform, candidate: RuleSet, **options: Any) -> WhatIfDiff:
    return run_whatif(
        platform.journey_view,
        platform.decisions,
        PRODUCTION,
        candidate,
        platform.projection_config,
        **options,
    )


def footprint(platform: Platform) -> dict[str, Any]:
    """Everything a what-if must leave as it was."""
    positions = platform.projector.positions
    logs: dict[str, EventLog] = platform.decision_logs
    return {
        "notifications": platform.decisions.recorder.max_notification_id(),
        "published": {
            topic: sum(len(log.read(p, 0, 1_000_000)) for p in range(log.partitions))
            for topic, log in logs.items()
        },
        "positions": {name: positions.get(name) for name in ("views", "risk")},
        "views": platform.view_checksums()["views"],
    }


def actions(diff: WhatIfDiff, rule_id: str) -> dict[str, Any]:
    rule = next(r for r in diff.rules if r.rule_id == rule_id)
    return {a.action: a for a in rule.actions}


def changed_rules(diff: WhatIfDiff) -> set[str]:
    return {rule.rule_id for rule in diff.rules if rule.changed}


def test_the_production_rules_change_nothing_and_nothing_is_written(platform: Platform) -> None:
    production = read_production(platform.decisions)
    suppressed = sum(len(ids) for ids in production.suppressed.values())
    standing = sum(len(d) for d in production.by_customer.values()) + suppressed
    assert suppressed > 0, "the fixture makes suppressed warnings"
    assert risk_backlog(platform.journey_view) == 0
    before = footprint(platform)

    diff = whatif(platform, RuleSet())

    assert not diff.changed
    assert sum(a.unchanged for r in diff.rules for a in r.actions) == standing
    assert all(rule.unresolved == 0 for rule in diff.rules)
    assert diff.stream_time == platform.journey_view.latest_recorded()
    assert diff.customers == platform.journey_view.customer_count()
    assert footprint(platform) == before
    # Deterministic, and the chunking does not matter.
    again = whatif(platform, RuleSet(), max_facts=50)
    assert diff_json(again) == diff_json(diff)
    assert footprint(platform) == before


def test_a_higher_repeat_threshold_only_takes_alerts_away_or_later(platform: Platform) -> None:
    before = footprint(platform)
    candidate = RuleSet(repeat_request=RepeatRequestRule(version=2, threshold=4))
    diff = whatif(platform, candidate)
    assert changed_rules(diff) == {"repeat_request"}
    (alert,) = actions(diff, "repeat_request").values()
    assert not alert.appear
    assert alert.disappear, "some customers never make a fourth request within the week"
    assert all(move.shift > 0 for move in alert.moved)
    assert {o.rule_version for o in alert.disappear} == {1}
    assert footprint(platform) == before
    assert diff_json(whatif(platform, candidate, max_facts=50)) == diff_json(diff)


def test_a_longer_sla_deadline_moves_that_rules_alerts_by_the_difference(
    platform: Platform,
) -> None:
    candidate = RuleSet(sla_overdue=SlaOverdueRule(version=2, deadline_hours=72))
    diff = whatif(platform, candidate)
    assert changed_rules(diff) == {"sla_overdue"}
    (alert,) = actions(diff, "sla_overdue").values()
    assert alert.moved
    assert {move.shift for move in alert.moved} == {24 * HOUR_US}
    assert alert.median_shift_hours == alert.max_shift_hours == 24
    assert not alert.appear  # unanswered for 72 hours is unanswered for 48
    # Every production alert moved, or went (answered in the extra day, or not due yet).
    stored = read_production(platform.decisions).by_customer.values()
    sla = [d for decisions in stored for d in decisions if d.rule_id == "sla_overdue"]
    assert alert.unchanged == 0
    assert len(alert.moved) + len(alert.disappear) == len(sla)


def test_the_window_keeps_the_decisions_holding_in_it(platform: Platform) -> None:
    candidate = RuleSet(
        sla_overdue=SlaOverdueRule(version=2, deadline_hours=72),
        repeat_request=RepeatRequestRule(version=2, threshold=4),
    )
    whole = whatif(platform, candidate)
    moments = sorted(m.before.at for r in whole.rules for a in r.actions for m in a.moved)
    window = Window(moments[len(moments) // 3], moments[2 * len(moments) // 3])
    part = whatif(platform, candidate, window=window)
    inside = window.contains
    for rule in ("sla_overdue", "repeat_request"):
        all_of, some = actions(whole, rule)["alert"], actions(part, rule)["alert"]
        assert some.appear == tuple(o for o in all_of.appear if inside(o.at))
        assert some.disappear == tuple(o for o in all_of.disappear if inside(o.at))
        assert some.moved == tuple(
            m for m in all_of.moved if inside(m.before.at) or inside(m.after.at)
        )
    moved = [m for r in part.rules for a in r.actions for m in a.moved]
    assert moved and len(moved) < len(moments)
    unchanged = sum(a.unchanged for r in part.rules for a in r.actions)
    assert 0 < unchanged < sum(a.unchanged for r in whole.rules for a in r.actions)
