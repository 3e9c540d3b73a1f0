"""``servicetrace whatif`` as an operator runs it: real processes on the embedded default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_cli import as_json, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with generated touchpoints ingested, projected and decided."""
    home = tmp_path_factory.mktemp("whatif-home")
    data = home / "in.ndjson"
    run(home, "generate", "--customers", "80", "--days", "30", "--seed", "3", "--out", str(data))
    run(home, "ingest", str(data))
    run(home, "project")
    return home


def rules_file(home: Path, name: str, text: str) -> str:
    path = home / name
    path.write_text(text)
    return str(path)


def whatif(home: Path, *args: str) -> dict[str, Any]:
    data: dict[str, Any] = as_json(run(home, "whatif", "--json", *args))
    return data


def board(home: Path) -> Any:
    return as_json(run(home, "alerts", "--limit", "100000", "--json"))


def test_the_production_rules_make_no_difference_and_touch_nothing(home: Path) -> None:
    same = rules_file(home, "same.toml", "")
    alerts_before = board(home)
    data = whatif(home, "--rules", same)
    assert data["changed"] is False and data["risk_engine_behind"] == 0
    counts = [a["counts"] for rule in data["rules"] for a in rule["actions"]]
    assert all(c["appear"] == c["disappear"] == c["moved"] == 0 for c in counts)
    alerts = [a for rule in data["rules"] for a in rule["actions"] if a["action"] == "alert"]
    assert sum(a["counts"]["unchanged"] for a in alerts) == len(alerts_before)
    human = run(home, "whatif", "--rules", same)
    assert human.returncode == 0 and "no difference" in human.stdout
    assert board(home) == alerts_before


def test_a_candidate_shows_moves_and_disappearances_per_rule(home: Path) -> None:
    candidate = rules_file(
        home,
        "candidate.toml",
        "[rules.sla_overdue]\nversion = 2\ndeadline_hours = 72\n\n"
        "[rules.channel_hopping]\nenabled = false\n",
    )
    data = whatif(home, "--rules", candidate)
    rules = {rule["rule_id"]: rule for rule in data["rules"]}
    assert {r for r, rule in rules.items() if rule["changed"]} == {"sla_overdue", "channel_hopping"}
    (sla,) = rules["sla_overdue"]["actions"]
    assert sla["moved"] and {m["shift_hours"] for m in sla["moved"]} == {24.0}
    assert len(sla["moved"]) == sla["counts"]["moved"]  # --json: every entry
    (hopping,) = rules["channel_hopping"]["actions"]
    assert rules["channel_hopping"]["candidate_version"] is None
    assert hopping["counts"]["unchanged"] == 0 and hopping["counts"]["disappear"] > 0

    human = run(home, "whatif", "--rules", candidate, "--limit", "1").stdout
    assert "channel_hopping v1 → off" in human and "sla_overdue v1 → v2" in human
    assert "sla_overdue alert: examples of" in human
    limited = whatif(home, "--rules", candidate, "--limit", "1")
    assert all(
        len(action[kind]) <= 1
        for rule in limited["rules"]
        for action in rule["actions"]
        for kind in ("appear", "disappear", "moved")
    )


def test_the_window_restricts_the_compared_decisions(home: Path) -> None:
    candidate = rules_file(home, "window.toml", "[rules.sla_overdue]\ndeadline_hours = 72\n")
    whole = whatif(home, "--rules", candidate)
    part = whatif(home, "--rules", candidate, "--from", "2026-01-15", "--to", "2026-01-22")
    assert part["window"] == {
        "from": "2026-01-15T00:00:00+00:00",
        "to": "2026-01-22T00:00:00+00:00",
    }
    (sla_whole,) = next(r for r in whole["rules"] if r["rule_id"] == "sla_overdue")["actions"]
    (sla_part,) = next(r for r in part["rules"] if r["rule_id"] == "sla_overdue")["actions"]
    assert 0 < sla_part["counts"]["moved"] < sla_whole["counts"]["moved"]
    for move in sla_part["moved"]:
        assert "2026-01-15" <= move["before"] < "2026-01-22" or (
            "2026-01-15" <= move["after"] < "2026-01-22"
        )


def test_bad_input_exits_2_naming_the_problem(home: Path) -> None:
    bad = rules_file(home, "bad.toml", "[rules.sla_overdue]\ndeadline = 3\n")
    done = run(home, "whatif", "--rules", bad, check=False)
    assert done.returncode == 2 and "rules.sla_overdue.deadline" in done.stderr
    same = rules_file(home, "ok.toml", "")
    backwards = run(
        home, "whatif", "--rules", same, "--from", "2026-02-01", "--to", "2026-01-01", check=False
    )
    assert backwards.returncode == 2 and "--from must come before --to" in backwards.stderr
    missing = run(home, "whatif", "--rules", str(home / "nope.toml"), check=False)
    assert missing.returncode == 2
