"""Evidence bundles as an auditor makes and checks them: real processes, embedded default."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_cli import as_json, run

pytestmark = pytest.mark.slow

MOMENT = "2026-03-04T10:15:00+00:00"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with generated touchpoints ingested, projected and decided."""
    home = tmp_path_factory.mktemp("export-home")
    data = home / "in.ndjson"
    run(home, "generate", "--customers", "40", "--days", "20", "--seed", "3", "--out", str(data))
    run(home, "ingest", str(data))
    run(home, "project")
    return home


@pytest.fixture(scope="module")
def customer(home: Path) -> str:
    """The customer with the most alerts, one of whose episodes an auditor evaluated."""
    rows = as_json(run(home, "alerts", "--limit", "1000", "--json"))
    (busiest, _), *_ = Counter(row["customer_id"] for row in rows).most_common(1)
    episode = as_json(run(home, "scenes", busiest, "--json"))["scenes"][0]["episode_id"]
    form = as_json(run(home, "evaluation-form", "--json"))
    answers = home / "answers.toml"
    lines = ['comment = "exported evidence test"', "[answers]"]
    for question in form["questions"]:
        value = "3" if question["answer"] == "scale" else '"yes"'
        lines.append(f"{question['id']} = {value}")
    answers.write_text("\n".join(lines) + "\n")
    run(home, "evaluate", episode, "--answers", str(answers), "--by", "qa-lee")
    return str(busiest)


def _export(home: Path, customer: str, out: Path, *args: str) -> dict[str, Any]:
    done = run(home, "export", customer, "--out", str(out), "--by", "auditor-1", "--json", *args)
    summary: dict[str, Any] = as_json(done)
    return summary


def _files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rezip(path: Path, files: dict[str, bytes]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    path.write_bytes(buffer.getvalue())


def test_export_writes_a_bundle_of_the_customer_that_verifies(
    home: Path, customer: str, tmp_path: Path
) -> None:
    out = tmp_path / "bundle.zip"
    summary = _export(home, customer, out, "--created-at", MOMENT)
    files = _files(out)
    journey = json.loads(files["journey.json"])
    decisions = json.loads(files["decisions.json"])
    timeline = as_json(run(home, "journey", customer, "--json"))
    assert journey == timeline  # the journey as the journey command shows it, masked
    assert summary["counts"]["touchpoints"] == len(journey["touchpoints"]) > 0
    assert summary["counts"]["scenes"] == len(json.loads(files["scenes.json"])) > 0
    alerts = decisions["alerts"]
    assert len(alerts) == len(as_json(run(home, "alerts", "--customer", customer, "--json")))
    event_ids = {tp["event_id"] for tp in journey["touchpoints"]}
    for alert in alerts:
        assert alert["rule_id"] and alert["rule_version"] >= 1
        assert set(alert["triggers"]) <= event_ids  # provenance points into the bundle
    assert decisions["risk"] == as_json(run(home, "risk", customer, "--json"))
    evaluations = json.loads(files["evaluations.json"])
    listed = as_json(run(home, "evaluations", "--customer", customer, "--json"))
    assert [e["evaluation_id"] for e in evaluations] == [e["evaluation_id"] for e in listed]
    assert evaluations[0]["by"] == "qa-lee" and summary["counts"]["evaluations"] == 1
    manifest = json.loads(files["manifest.json"])
    assert manifest["created_at"] == MOMENT
    assert manifest["chain"]["head"] == summary["chain_head"]
    assert manifest["signer"]["fingerprint"] == summary["fingerprint"]
    assert sum(s["count"] for s in manifest["log"]["touchpoints"].values()) == len(event_ids)
    assert customer in files["index.html"].decode()

    key = home / "secrets" / "signing-key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600

    checked = run(home, "verify", str(out), "--json")
    report = as_json(checked)
    assert checked.returncode == 0
    assert report["intact"] and report["trust"] == "trusted" and report["findings"] == []
    human = run(home, "verify", str(out)).stdout
    assert "intact" in human and summary["chain_head"] in human

    reads = as_json(run(home, "reads", "--what", "export", "--customer", customer, "--json"))
    assert any(
        r["by"] == "auditor-1" and r["subject"]["chain_head"] == summary["chain_head"]
        for r in reads
    )


def test_two_exports_at_the_same_moment_are_byte_identical(
    home: Path, customer: str, tmp_path: Path
) -> None:
    first, second, later = (tmp_path / n for n in ("a.zip", "b.zip", "c.zip"))
    _export(home, customer, first, "--created-at", MOMENT)
    _export(home, customer, second, "--created-at", MOMENT)
    _export(home, customer, later, "--created-at", "2026-03-05")
    assert first.read_bytes() == second.read_bytes()
    assert later.read_bytes() != first.read_bytes()


def test_verify_reports_a_tampered_bundle_and_exits_1(
    home: Path, customer: str, tmp_path: Path
) -> None:
    out = tmp_path / "bundle.zip"
    _export(home, customer, out)
    files = _files(out)
    journey = json.loads(files["journey.json"])
    victim = journey["touchpoints"][1]
    victim["outcome"] = "resolved" if victim["outcome"] != "resolved" else "unresolved"
    dropped = journey["touchpoints"].pop(3)
    files["journey.json"] = json.dumps(journey, indent=2).encode()
    del files["scenes.json"]
    _rezip(out, files)

    done = run(home, "verify", str(out), "--json", check=False)
    assert done.returncode == 1
    found = {(f["code"], f["subject"]) for f in as_json(done)["findings"]}
    assert found == {
        ("item_missing", "scenes.json"),
        ("item_altered", "journey.json"),
        ("touchpoint_altered", victim["event_id"]),
        ("touchpoint_missing", dropped["event_id"]),
    }
    human = run(home, "verify", str(out), check=False)
    assert human.returncode == 1 and "4 finding(s)" in human.stdout
    assert dropped["event_id"] in human.stdout


def test_verify_checks_the_signer(home: Path, customer: str, tmp_path: Path) -> None:
    out = tmp_path / "bundle.zip"
    summary = _export(home, customer, out)
    elsewhere = tmp_path / "auditor-laptop"  # no deployment key: the signer is not checked
    unchecked = as_json(run(elsewhere, "verify", str(out), "--json"))
    assert unchecked["intact"] and unchecked["trust"] == "unchecked"
    given = run(elsewhere, "verify", str(out), "--key", summary["fingerprint"][:20], "--json")
    assert as_json(given)["trust"] == "trusted"
    stranger = "f" * 64
    refused = run(elsewhere, "verify", str(out), "--key", stranger, "--json", check=False)
    assert refused.returncode == 1
    assert [f["code"] for f in as_json(refused)["findings"]] == ["untrusted_key"]
    public_key = home / "secrets" / "signing-key.pem"
    by_file = run(elsewhere, "verify", str(out), "--key", str(public_key), "--json")
    assert as_json(by_file)["trust"] == "trusted"


def test_usage_errors(home: Path, customer: str, tmp_path: Path) -> None:
    missing = run(home, "export", "NO-SUCH-CUSTOMER", "--out", str(tmp_path / "x.zip"), check=False)
    assert missing.returncode == 1
    assert "no touchpoints for customer 'NO-SUCH-CUSTOMER'" in missing.stderr
    assert not (tmp_path / "x.zip").exists()

    junk = tmp_path / "junk.zip"
    junk.write_text("not a zip")
    unreadable = run(home, "verify", str(junk), check=False)
    assert unreadable.returncode == 2 and "not a readable evidence bundle" in unreadable.stderr
    absent = run(home, "verify", str(tmp_path / "absent.zip"), check=False)
    assert absent.returncode == 2 and "cannot read" in absent.stderr

    out = tmp_path / "bundle.zip"
    _export(home, customer, out)
    bad_key = run(home, "verify", str(out), "--key", "xyz", check=False)
    assert bad_key.returncode == 2 and "neither a key file nor a fingerprint" in bad_key.stderr


def test_a_configured_signing_key_signs_and_the_home_key_then_distrusts_it(
    home: Path, customer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "bundle.zip"
    own = _export(home, customer, tmp_path / "own.zip")["fingerprint"]
    other_key = tmp_path / "keys" / "other.pem"
    monkeypatch.setenv("SERVICETRACE_SIGNING_KEY", str(other_key))
    signed = _export(home, customer, out)
    assert other_key.is_file() and signed["fingerprint"] != own
    assert as_json(run(home, "verify", str(out), "--json"))["trust"] == "trusted"
    monkeypatch.delenv("SERVICETRACE_SIGNING_KEY")
    refused = as_json(run(home, "verify", str(out), "--json", check=False))
    assert [f["code"] for f in refused["findings"]] == ["untrusted_key"]
