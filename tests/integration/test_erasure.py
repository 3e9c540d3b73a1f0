"""The proof of erasure on real components: the SQLite log, key, dead-letter, decision and
audit stores of a data directory, and the ClickHouse engine (chdb) for the views.

One customer with a known name, phone and e-mail calls among generated customers, and also
sends records that are rejected (one naming them, one only mentioning their e-mail). After
``erase`` none of those strings is found in any view, as-of view, replay step, scene, customer
view, evidence bundle, dead letter (listed or on disk), the log read back and decoded, any
file of the data directory, or the process's logs; while the view checksums (the journey's
included: its ciphertext columns do not change, they just no longer open), counts, scenes,
decisions and a full rebuild are exactly what they were before.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from projections.clickhouse import ViewStore
from services.asof import Sources, journey_as_of, scene_as_of
from services.erasure import erase, erasure_json, erasures
from services.evidence import export_bundle
from services.generate import write_ndjson
from services.ingest.runner import ingest_file
from services.journeys import journey_json
from services.moments import to_micros
from services.platform import Platform
from services.rebuild import rebuild
from services.replay_view import iter_step_json, replay_steps
from services.settings import Settings
from services.views import customer_json, scene_json, summary_json

CID = "CZ-ERASE-1"
NAME, PHONE, EMAIL = "Zelda Quixote", "+86 138 0013 9999", "zelda.quixote@example.org"
NEEDLES = (NAME, PHONE, EMAIL, "Quixote", "0013 9999", "zelda.quixote")
WHEN = "2026-01-20T10:00:00+00:00"
END = to_micros(datetime(2026, 3, 1, tzinfo=UTC))


def _record(n: int, day: int, **fields: Any) -> dict[str, Any]:
    return {
        "source": {"system": "crm", "event_id": f"zq-{n}"},
        "customer": {"id": CID, "name": NAME, "phone": PHONE, "email": EMAIL},
        "occurred_at": f"2026-01-{day:02d}T10:{n:02d}:00+08:00",
        "recorded_at": f"2026-01-{day:02d}T10:{n:02d}:30+08:00",
        "service_type": "billing",
        "channel": "phone",
        "direction": "inbound",
        "actor": {"type": "customer"},
        "case_id": "K-ZQ-1",
        **fields,
    }


def known_customer() -> list[str]:
    """Three complaints about the same service in three days (a repeat alert, a sensitive
    flag), the customer's own words naming them, an agent's handling, two rejected records."""
    words = f"This is {NAME}: call me on {PHONE} or write to {EMAIL}, my bill is wrong"
    records = [
        _record(1, 7, kind="complaint", text=words),
        _record(2, 7, kind="contact_handled", actor={"type": "agent", "id": "A001"},
                outcome="unresolved", handle_seconds=300, text="Explained the tariff."),
        _record(3, 8, kind="complaint", text=f"{NAME} again, still wrong"),
        _record(4, 9, kind="complaint", channel="app", text="third time"),
        _record(5, 10, kind="feedback", score=1, channel="sms"),
    ]  # fmt: skip
    rejected = [
        json.dumps(_record(6, 11, kind="complaint", occurred_at="not a time")),
        json.dumps({"customer": EMAIL, "kind": "complaint", "text": "no id, only an e-mail"}),
    ]
    return [json.dumps(r) for r in records] + rejected


@pytest.fixture
def home(tmp_path: Path, view_store: ViewStore) -> Iterator[tuple[Path, Settings]]:
    """A data directory with generated customers plus the known one ingested, projected and
    decided (the input file lives outside the data directory)."""
    data = tmp_path / "input" / "in.ndjson"
    data.parent.mkdir()
    with data.open("w", encoding="utf-8") as out:
        write_ndjson(out, customers=30, days=25, seed=11)
        out.write("\n".join(known_customer()) + "\n")
    settings = Settings(home=tmp_path / "home", log="embedded", partitions=3)
    with Platform(settings) as platform:
        platform.__dict__["view_store"] = view_store
        summary = ingest_file(platform, data, "ndjson", None, show_progress=False)
        assert summary.rejected == 2 and summary.balanced
        project(platform)
    yield settings.home, settings


def project(platform: Platform) -> None:
    platform.projector.run_once()
    platform.risk_engine.run_once()
    platform.relay.run_once()


def everything_shown(platform: Platform) -> dict[str, Any]:
    """Every way the platform shows the customer, as JSON-ready data."""
    sources = Sources.of(platform)
    entries = platform.journey_view.timeline(CID)
    scenes = platform.scene_view.for_customer(CID)
    detail = []
    for row in scenes:
        members = {str(e) for e in row["event_ids"]}
        shown = [e for e in entries if str(e.event_id) in members]
        detail.append(journey_json(CID, shown, platform.vault)["touchpoints"])
    profile = platform.customer_view.get(CID)
    assert profile is not None
    steps = replay_steps(sources, CID)
    return {
        "journey": journey_json(CID, entries, platform.vault),
        "as_of": journey_as_of(sources, CID, END),
        "scene_as_of": scene_as_of(sources, scenes[0], END),
        "replay": list(iter_step_json(steps, sources)),
        "scenes": [scene_json(row) for row in scenes],
        "scene_detail": detail,
        "customer": customer_json(profile, platform.vault),
        "deadletters": [letter.to_json() for letter in platform.deadletters.list()],
    }


def bundle_texts(platform: Platform) -> str:
    bundle = export_bundle(platform, CID, datetime(2026, 2, 1, tzinfo=UTC))
    with zipfile.ZipFile(io.BytesIO(bundle.data)) as archive:
        return "\n".join(archive.read(name).decode("utf-8") for name in archive.namelist())


def decoded_log(platform: Platform) -> str:
    """Every touchpoint of the log, read back and decoded to its canonical JSON."""
    log, serde = platform.log, platform.serde
    return "\n".join(
        serde.decode(record.value).model_dump_json()
        for partition in range(log.partitions)
        for record in log.read(partition, 0, 1_000_000)
    )


def files_of(home: Path) -> bytes:
    """Every file of the data directory, byte for byte (SQLite files and their -wal)."""
    return b"".join(p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file())


def found(text: str | bytes) -> list[str]:
    data = text if isinstance(text, str) else text.decode("utf-8", errors="replace")
    return [needle for needle in NEEDLES if needle.lower() in data.lower()]


def without_words(journey: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in tp.items() if k != "words"} for tp in journey["touchpoints"]]


def non_personal(platform: Platform) -> dict[str, Any]:
    """What must replay identically: checksums of every view, counts, the customer's scenes,
    every decision, another customer's journey."""
    customers = platform.journey_view.customer_ids()
    other = next(c for c in customers if c != CID)
    return {
        "checksums": platform.view_checksums(),
        "summary": summary_json(platform.journey_view),
        "scenes": [scene_json(row) for row in platform.scene_view.for_customer(CID)],
        "decisions": platform.decisions.decision_ids(customers),
        "alerts": sorted(row.alert_id for row in platform.decisions.alerts(customer_id=CID)),
        "other": journey_json(other, platform.journey_view.timeline(other), platform.vault),
    }


def test_after_erasure_nothing_reveals_the_customer_and_the_rest_replays_identically(
    home: tuple[Path, Settings], view_store: ViewStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path, settings = home
    with Platform(settings) as api, Platform(settings) as eraser:
        # Two handles, as two processes: the API stays up while `servicetrace erase` runs.
        api.__dict__["view_store"] = eraser.__dict__["view_store"] = view_store
        before = everything_shown(api)
        assert set(found(json.dumps(before, ensure_ascii=False))) == set(NEEDLES), (
            "the customer's own words and the rejected records show them while the key lives"
        )
        assert found(bundle_texts(api)), "the evidence bundle shows their words too"
        assert not found(files_of(path)), "nothing personal is ever on disk in the clear"
        assert not found(decoded_log(api))
        kept = non_personal(api)
        assert kept["alerts"], "the known customer raised alerts: decisions are compared"

        outcome = erase(eraser, CID, "dpo", "REQ-2026-17", clock=lambda: WHEN)
        assert (outcome.keys_destroyed, outcome.letters_scrubbed, outcome.repeated) == (1, 2, False)

        after = everything_shown(api)
        assert found(json.dumps(after, ensure_ascii=False)) == []
        assert found(bundle_texts(api)) == []
        assert found(decoded_log(api)) == []
        assert found(files_of(path)) == []
        assert {
            t["words"] for t in after["journey"]["touchpoints"] if t["actor"] == "customer"
        } <= {
            "[erased]",
            None,
        }
        assert after["customer"]["identifiers"]["personal"] == "erased or unreadable"
        assert [x["erased"] for x in after["deadletters"]] == [True, True]
        assert len(after["deadletters"]) == len(before["deadletters"])

        assert without_words(after["journey"]) == without_words(before["journey"])
        assert after["scenes"] == before["scenes"]
        assert [s["risk"] for s in after["replay"]] == [s["risk"] for s in before["replay"]]
        assert non_personal(api) == kept, "checksums (journey's too), counts, decisions"

        report = rebuild(api, ["all"])
        assert report["views"]["checksums"] == kept["checksums"]["views"]
        assert report["risk"]["identical"] and report["risk"]["applied"] == 0
        assert non_personal(api) == kept
        assert found(json.dumps(everything_shown(api), ensure_ascii=False)) == []

        (record,) = [erasure_json(e) for e in erasures(api.audit)]
        assert record["customer_id"] == CID and record["erased_at"] == WHEN
        assert (record["erased_by"], record["reason"]) == ("dpo", "REQ-2026-17")

    assert found(caplog.text) == []


def test_erasing_again_destroys_what_came_since_and_records_a_repeat(
    home: tuple[Path, Settings], view_store: ViewStore, tmp_path: Path
) -> None:
    _, settings = home
    with Platform(settings) as platform:
        platform.__dict__["view_store"] = view_store
        first = erase(platform, CID, "dpo", "REQ-1", clock=lambda: WHEN)
        again = erase(platform, CID, "dpo", "REQ-1 check", clock=lambda: WHEN)
        assert (again.repeated, again.keys_destroyed, again.letters_scrubbed) == (True, 0, 0)

        # The customer comes back: new data under a new key, readable until erased again.
        back = tmp_path / "input" / "back.ndjson"
        back.write_text(json.dumps(_record(7, 20, kind="inquiry", text=f"{NAME} is back")) + "\n")
        ingest_file(platform, back, "ndjson", None, show_progress=False)
        project(platform)
        assert found(json.dumps(journey_json(CID, platform.journey_view.timeline(CID),
                                             platform.vault)))  # fmt: skip
        third = erase(platform, CID, "dpo", "REQ-2", clock=lambda: WHEN)
        assert (third.repeated, third.keys_destroyed) == (True, 1)
        shown = journey_json(CID, platform.journey_view.timeline(CID), platform.vault)
        assert found(json.dumps(shown)) == []
        assert [step["action"] for step in third.erasure.history] == [
            "erased",
            "repeated",
            "repeated",
        ]
        assert first.erasure.id == third.erasure.id
        assert len(erasures(platform.audit)) == 1
