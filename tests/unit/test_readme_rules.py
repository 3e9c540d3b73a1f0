"""The rules example in the README is valid configuration and means what it says."""

from __future__ import annotations

import re
from pathlib import Path

from projections.risk import load_rules

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_rules_example_loads(tmp_path: Path) -> None:
    blocks = re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    (example,) = [block for block in blocks if "[rules." in block]
    path = tmp_path / "rules.toml"
    path.write_text(example, encoding="utf-8")
    rules = load_rules(path)
    assert rules.repeat_request.version == 2
    assert rules.repeat_request.threshold == 4
    assert rules.repeat_request.window_hours == 72
    assert not rules.channel_hopping.enabled
    assert "channel_hopping" not in rules.versions()
    assert rules.versions()["sla_overdue"] == 1
