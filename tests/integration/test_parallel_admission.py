"""Admission in worker processes gives exactly what inline admission gives."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from events.deadletter.memory import MemoryDeadLetterStore
from events.identity import IdentifierHasher
from events.intake import Intake
from events.keys.sqlite import SqliteKeyStore
from events.log.sqlite import SqliteEventLog
from events.personal import PersonalVault
from schemas.serde import TouchpointSerde
from services.generate import dumps_record, generate
from services.ingest.admission import AdmissionPool, IntakeRecipe
from services.ingest.pipeline import IngestPipeline
from services.ingest.submission import read_ndjson

PEPPER = b"parallel-pepper-0123"


def lines() -> list[str]:
    out = [dumps_record(r) for r in generate(customers=40, days=20, seed=11)]
    out.insert(5, "{broken")
    out.insert(50, json.dumps({"customer": {"id": "C1"}, "source": {"system": "x"}}))
    return out


def ingest(tmp: Path, workers: int) -> tuple[dict[str, object], SqliteEventLog]:
    keys = tmp / "keys.sqlite"
    intake = Intake(IdentifierHasher(PEPPER), PersonalVault(SqliteKeyStore(keys)))
    log = SqliteEventLog(tmp / "log.sqlite", partitions=3)
    pool = AdmissionPool(IntakeRecipe(PEPPER, keys), workers, chunk=37) if workers else None
    try:
        pipeline = IngestPipeline(
            intake, TouchpointSerde(), log, MemoryDeadLetterStore(), batch_size=100, pool=pool
        )
        summary = pipeline.run(read_ndjson(lines(), "gen.ndjson")).to_json()
    finally:
        if pool is not None:
            pool.close()
    return summary, log


def test_workers_append_the_same_events_in_the_same_order(tmp_path: Path) -> None:
    inline, inline_log = ingest(tmp_path / "inline", workers=0)
    parallel, parallel_log = ingest(tmp_path / "parallel", workers=2)
    for key in ("submitted", "accepted", "duplicates", "rejected", "rejected_by_reason"):
        assert inline[key] == parallel[key], key
    assert parallel["rejected"] == 2
    for partition in range(3):
        a = [r.event_id for r in inline_log.read_all(partition)]
        b = [r.event_id for r in parallel_log.read_all(partition)]
        assert a == b and a


def test_every_customer_gets_exactly_one_key_across_workers(tmp_path: Path) -> None:
    ingest(tmp_path, workers=2)
    db = sqlite3.connect(tmp_path / "keys.sqlite")
    per_customer = db.execute("SELECT customer_id, COUNT(*) FROM data_keys GROUP BY 1").fetchall()
    assert len(per_customer) >= 30
    assert {count for _, count in per_customer} == {1}
