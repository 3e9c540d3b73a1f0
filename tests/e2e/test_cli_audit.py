"""The audit commands as an auditor runs them: real processes on the embedded default."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from services.platform import Platform
from services.settings import Settings
from tests.e2e.test_cli import as_json, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with generated touchpoints ingested and projected."""
    home = tmp_path_factory.mktemp("audit-home")
    data = home / "in.ndjson"
    run(home, "generate", "--customers", "30", "--days", "20", "--seed", "5", "--out", str(data))
    run(home, "ingest", str(data))
    run(home, "project")
    return home


@pytest.fixture(scope="module")
def episode(home: Path) -> dict[str, Any]:
    """Some customer's first episode, as ``scenes`` lists it."""
    customer = as_json(run(home, "alerts", "--json", "--limit", "1"))[0]["customer_id"]
    scene: dict[str, Any] = as_json(run(home, "scenes", customer, "--json"))["scenes"][0]
    return scene


def filled(home: Path, name: str, **changes: Any) -> Path:
    """The shipped form's answers skeleton, from the CLI, filled with full marks."""
    template = run(home, "evaluation-form", "--template").stdout
    questions = as_json(run(home, "evaluation-form", "--json"))["questions"]
    lines = [line for line in template.splitlines() if not line.startswith(("[notes]", "# q"))]
    answers = {q["id"]: (4 if q["answer"] == "scale" else '"yes"') for q in questions}
    for key, value in changes.items():
        answers[key] = value
    body = [
        f"{line.split(' = ')[0]} = {answers[line.split(' = ')[0]]}"
        if line.split(" = ")[0] in answers
        else line
        for line in lines
    ]
    path = home / name
    path.write_text("\n".join(body) + '\n[notes]\nrel_promise_kept = "called back at 16:20"\n')
    tomllib.loads(path.read_text())  # a valid TOML document
    return path


def test_the_form_shows_its_questions(home: Path) -> None:
    form = as_json(run(home, "evaluation-form", "--json"))
    assert form["id"] == "servqual-utility" and 12 <= len(form["questions"]) <= 15
    fatal = [q for q in form["questions"] if q["type"] == "fatal"]
    assert fatal and all(q["accepts"] == ["yes", "no"] for q in fatal if not q["allow_na"])
    human = run(home, "evaluation-form").stdout
    assert "rel_promise_kept" in human and "pass mark 80%" in human


def test_evaluating_an_episode_records_its_score_card(home: Path, episode: dict[str, Any]) -> None:
    answers = filled(home, "good.toml", tan_case_record=2, tan_written_followup='"na"')
    data = as_json(
        run(
            home,
            "evaluate",
            episode["episode_id"],
            "--answers",
            str(answers),
            "--by",
            "ann",
            "--json",
        )
    )
    assert data["customer_id"] == episode["customer_id"]
    assert data["by"] == "ann" and data["result"] == "pass"
    assert data["score"]["not_applicable"] == ["tan_written_followup"]
    assert 80 <= data["score"]["standard"] < 100
    notes = {q["id"]: q["note"] for q in data["questions"]}
    assert notes["rel_promise_kept"] == "called back at 16:20"

    listed = as_json(run(home, "evaluations", "--episode", episode["episode_id"], "--json"))
    assert data["evaluation_id"] in [e["evaluation_id"] for e in listed]
    shown = as_json(run(home, "evaluation", data["evaluation_id"][:8], "--json"))
    assert shown == data
    human = run(home, "evaluation", data["evaluation_id"]).stdout
    assert "PASS" in human and "responsiveness" in human


def test_a_fatal_answer_fails_and_an_amendment_is_kept(home: Path, episode: dict[str, Any]) -> None:
    answers = filled(home, "fatal.toml", ass_identity_verified='"no"')
    data = as_json(
        run(
            home,
            "evaluate",
            episode["episode_id"],
            "--answers",
            str(answers),
            "--by",
            "kim",
            "--json",
        )
    )
    assert data["result"] == "fail"
    assert data["score"]["fatal_failed"] == ["ass_identity_verified"]
    assert "unverified caller" in data["score"]["reasons"][0]
    fixed = filled(home, "fixed.toml")
    amended = as_json(
        run(
            home,
            "amend-evaluation",
            data["evaluation_id"],
            "--answers",
            str(fixed),
            "--reason",
            "identity was checked off-script",
            "--by",
            "lee",
            "--json",
        )
    )
    assert amended["result"] == "pass"
    assert [(h["action"], h["by"]) for h in amended["history"]] == [
        ("evaluated", "kim"),
        ("amended", "lee"),
    ]
    customer = as_json(run(home, "evaluations", "--customer", episode["customer_id"], "--json"))
    assert amended in customer
    assert as_json(run(home, "evaluations", "--customer", "nobody", "--json")) == []


def test_bad_answers_and_unknown_episodes_are_refused(home: Path, episode: dict[str, Any]) -> None:
    blank = home / "blank.toml"
    blank.write_text(run(home, "evaluation-form", "--template").stdout)
    refused = run(home, "evaluate", episode["episode_id"], "--answers", str(blank), check=False)
    assert refused.returncode == 2
    assert "rel_accurate_info: not answered yet" in refused.stderr
    bad = filled(home, "bad.toml", rel_accurate_info=7, emp_professional_conduct='"na"')
    refused = run(home, "evaluate", episode["episode_id"], "--answers", str(bad), check=False)
    assert refused.returncode == 2
    assert "rel_accurate_info: 7 is not on the scale" in refused.stderr
    assert "emp_professional_conduct: N/A is not allowed" in refused.stderr
    broken_form = home / "form.toml"
    broken_form.write_text(
        'id = "f"\ntitle = "t"\nversion = 1\npass_mark = 80\n'
        '[[questions]]\nid = "q1"\ndimension = "speed"\ntext = "x"\nweight = 0\n'
    )
    refused = run(home, "evaluation-form", "--form", str(broken_form), check=False)
    assert refused.returncode == 2
    assert "question q1.dimension" in refused.stderr and "question q1.weight" in refused.stderr

    good = filled(home, "good2.toml")
    missing = run(home, "evaluate", "no-such-episode", "--answers", str(good), check=False)
    assert missing.returncode == 1 and "no episode 'no-such-episode'" in missing.stderr
    unknown = run(home, "evaluation", "zzzz", check=False)
    assert unknown.returncode == 2 and "no evaluation id starts with 'zzzz'" in unknown.stderr


def test_the_audit_trail_of_reads_is_listed(home: Path) -> None:
    settings = Settings(home=home, log="embedded", postgres_dsn=None, audit=None)
    with Platform(settings) as platform:
        platform.audit.record_read("ann", "journey", "C0000001", {"as_of": "2026-03-01"})
        platform.audit.record_read("ann", "scene", "C0000002", {"episode_id": "E9"})
        platform.audit.record_read("bob", "export", None, {"customers": "2"})

    everything = as_json(run(home, "reads", "--json"))
    # The module's earlier commands were reads too (recorded under the OS user).
    rows = [r for r in everything if r["by"] in ("ann", "bob")]
    assert [(r["by"], r["what"]) for r in rows] == [
        ("bob", "export"),
        ("ann", "scene"),
        ("ann", "journey"),
    ]
    assert [r["what"] for r in as_json(run(home, "reads", "--by", "ann", "--json"))] == [
        "scene",
        "journey",
    ]
    only = as_json(run(home, "reads", "--customer", "C0000002", "--what", "scene", "--json"))
    assert [r["subject"] for r in only] == [{"episode_id": "E9"}]
    assert len(as_json(run(home, "reads", "--limit", "1", "--json"))) == 1
    human = run(home, "reads").stdout
    assert f"{len(everything)} read(s)" in human and "(many)" in human
