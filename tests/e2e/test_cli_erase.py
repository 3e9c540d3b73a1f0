"""Erasure as a data-protection officer runs it: real processes on the embedded default."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_cli import as_json, run
from tests.integration.test_erasure import CID, NEEDLES, known_customer

pytestmark = pytest.mark.slow


def found(*texts: str) -> list[str]:
    joined = "\n".join(texts).lower()
    return [needle for needle in NEEDLES if needle.lower() in joined]


def shown(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated customers plus the known one (two of whose records are rejected), ingested
    and projected."""
    home = tmp_path_factory.mktemp("erase-home")
    data = home.parent / f"{home.name}-in.ndjson"
    run(home, "generate", "--customers", "30", "--days", "25", "--seed", "11", "--out", str(data))
    with data.open("a", encoding="utf-8") as out:
        out.write("\n".join(known_customer()) + "\n")
    run(home, "ingest", str(data))
    run(home, "project")
    return home


def export_texts(home: Path, name: str) -> str:
    out = home.parent / f"{home.name}-{name}.zip"
    run(home, "export", CID, "--out", str(out), "--by", "auditor")
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as archive:
        return "\n".join(archive.read(n).decode("utf-8") for n in archive.namelist())


def test_erase_then_nothing_shows_the_customer(home: Path) -> None:
    journey = run(home, "journey", CID, "--json", "--by", "auditor").stdout
    letters = run(home, "deadletter", "--json").stdout
    assert found(journey, letters, export_texts(home, "before")), "shown while the key lives"
    checksums = as_json(run(home, "checksums", "--json"))

    done = run(home, "erase", CID, "--by", "dpo", "--reason", "REQ-2026-17", "--json")
    report: dict[str, Any] = as_json(done)
    assert (report["customer_id"], report["already_erased"]) == (CID, False)
    assert (report["keys_destroyed"], report["letters_scrubbed"]) == (1, 2)
    assert report["erasure"]["erased_by"] == "dpo"

    outputs = [
        done,
        run(home, "journey", CID, "--json", "--by", "auditor"),
        run(home, "journey", CID, "--by", "auditor"),
        run(home, "journey", CID, "--json", "--as-of", "2026-03-01", "--by", "auditor"),
        run(home, "replay", CID, "--json", "--by", "auditor"),
        run(home, "scenes", CID, "--json", "--by", "auditor"),
        run(home, "customer", CID, "--json"),
        run(home, "customer", CID),
        run(home, "deadletter", "--json"),
        run(home, "deadletter"),
    ]
    assert found(*(shown(o) for o in outputs), export_texts(home, "after")) == []
    letters_after = as_json(run(home, "deadletter", "--json"))
    assert letters_after["total"] == 2 and all(x["erased"] for x in letters_after["letters"])
    files = b"".join(p.read_bytes() for p in home.rglob("*.sqlite*") if p.is_file())
    assert found(files.decode("utf-8", errors="replace")) == []
    assert as_json(run(home, "checksums", "--json")) == checksums

    again = as_json(run(home, "erase", CID, "--by", "dpo", "--reason", "check", "--json"))
    assert again["already_erased"] and again["keys_destroyed"] == 0
    human = run(home, "erase", CID, "--by", "dpo", "--reason", "check 2").stdout
    assert "already erased" in " ".join(human.split())
    (listed,) = as_json(run(home, "erasures", "--json"))
    assert listed["customer_id"] == CID and len(listed["history"]) == 3
    assert CID in run(home, "erasures").stdout


def test_erase_refuses_an_unknown_customer_and_an_unaccountable_request(home: Path) -> None:
    unknown = run(home, "erase", "NO-SUCH", "--by", "dpo", "--reason", "x", check=False)
    assert unknown.returncode == 1 and "nothing erased" in " ".join(unknown.stderr.split())
    blank = run(home, "erase", "C0000001", "--by", "dpo", "--reason", "  ", check=False)
    assert blank.returncode == 2 and "reason" in blank.stderr
    missing = run(home, "erase", "C0000001", "--by", "dpo", check=False)
    assert missing.returncode == 2 and "--reason" in missing.stderr
    listed = json.loads(run(home, "erasures", "--json").stdout)
    assert "C0000001" not in {row["customer_id"] for row in listed}
    assert "NO-SUCH" not in {row["customer_id"] for row in listed}
