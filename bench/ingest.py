"""Ingest benchmark: validate + seal + encode + append, on the embedded and the Kafka log.

Prints one JSON document. Baselines are measured in the same run on the same data:

* ``kafka.raw_producer``: kafka-python's producer sending the *already encoded* bytes of the
  same touchpoints (same keys, partitions, compression, acks and idempotence) — the ceiling the
  Kafka ingest path is compared with (target: ingest >= 60% of it);
* ``stages``: intake alone and encode alone, to show where the time goes.

Usage: ``python bench/ingest.py [--events 200000] [--only embedded|kafka] [--bootstrap HOST:PORT]``
(without ``--bootstrap`` a tansu broker is started on a free loopback port).

Every measurement runs in its own fresh process that holds nothing but the input lines: a
process that already ran one measurement is 10-20% slower in the next (a fuller heap, colder
caches), which biased whichever path came second. Each ingest also reports the CPU time per
touchpoint of the ingesting process and of its admission workers (``getrusage``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from itertools import islice
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from events.deadletter.memory import MemoryDeadLetterStore
from events.identity import IdentifierHasher
from events.intake import Intake
from events.keys.memory import MemoryKeyStore
from events.keys.sqlite import SqliteKeyStore
from events.log import EventLog, partition_for
from events.log.kafka import KafkaEventLog, KafkaLogConfig
from events.log.sqlite import SqliteEventLog
from events.personal import PersonalVault
from schemas.serde import TouchpointSerde, touchpoint_event_id
from services.devbroker import given_or_tansu
from services.generate import dumps_record, generate
from services.ingest.admission import AdmissionPool, IntakeRecipe
from services.ingest.pipeline import IngestPipeline
from services.ingest.submission import read_ndjson

TARGET_EMBEDDED_PER_S = 30_000
TARGET_KAFKA_VS_RAW = 0.60
BATCH = 2000
PARTITIONS = 6


def _lines(events: int, seed: int) -> list[str]:
    """NDJSON lines, as ``servicetrace ingest`` reads them (strings: no GC traversal cost)."""
    customers = max(50, events // 100)
    records = generate(customers=customers, days=400, seed=seed)
    return [dumps_record(r) for r in islice(records, events)]


PEPPER = b"bench-pepper-0123456789"


def _intake(keys_path: Path | None = None) -> Intake:
    keys = SqliteKeyStore(keys_path) if keys_path else MemoryKeyStore()
    return Intake(IdentifierHasher(PEPPER), PersonalVault(keys))


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def _ingest(lines: list[str], log: EventLog, keys_path: Path, workers: int) -> dict[str, Any]:
    """The real pipeline; ``workers`` admission processes (0: inline), timed from pool start."""
    cpu = _cpu_seconds()
    started = time.perf_counter()
    with ExitStack() as stack:
        pool = None
        if workers:
            recipe = IntakeRecipe(PEPPER, keys_path)
            pool = stack.enter_context(AdmissionPool(recipe, workers))
        pipeline = IngestPipeline(
            _intake(keys_path),
            TouchpointSerde(),
            log,
            MemoryDeadLetterStore(),
            batch_size=BATCH,
            pool=pool,
        )
        summary = pipeline.run(read_ndjson(lines, "bench"))
    seconds = time.perf_counter() - started
    parent, children = (after - before for after, before in zip(_cpu_seconds(), cpu, strict=True))
    assert summary.balanced and summary.rejected == 0, summary.to_json()
    appended = summary.touchpoints_appended
    return {
        "workers": workers,
        "touchpoints": appended,
        "seconds": round(seconds, 3),
        "per_second": round(appended / seconds),
        "cpu_us_per_touchpoint": {
            "ingest_process": round(parent / appended * 1e6, 1),
            "workers": round(children / appended * 1e6, 1),
        },
    }


def _cpu_seconds() -> tuple[float, float]:
    """User + system CPU of this process and of its (finished) child processes."""
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _stages(lines: list[str]) -> dict[str, Any]:
    """Each stage alone over the whole input (results kept: GC pressure included)."""
    intake, serde = _intake(), TouchpointSerde()
    seconds_json, records = _timed(lambda: [json.loads(line) for line in lines])
    seconds_in, touchpoints = _timed(lambda: [intake.touchpoint(r) for r in records])
    seconds_enc, encoded = _timed(lambda: [serde.encode(tp) for tp in touchpoints])
    return {
        "json_per_second": round(len(lines) / seconds_json),
        "intake_per_second": round(len(lines) / seconds_in),
        "encode_per_second": round(len(lines) / seconds_enc),
        "mean_encoded_bytes": round(sum(map(len, encoded)) / len(encoded)),
    }


def _encoded(lines: list[str]) -> list[tuple[str, bytes]]:
    """(key, value) of every touchpoint, encoded once for the raw producer baseline."""
    intake, serde = _intake(), TouchpointSerde()
    touchpoints = (intake.touchpoint(json.loads(line)) for line in lines)
    return [(tp.customer_id, serde.encode(tp)) for tp in touchpoints]


def _raw_producer(bootstrap: str, encoded: list[tuple[str, bytes]]) -> dict[str, Any]:
    """The ceiling: the same bytes through kafka-python with the log's producer settings."""
    config = KafkaLogConfig(bootstrap, index_path=Path("unused"))
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    _create_topic(bootstrap, topic)
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        compression_type=config.compression,
        linger_ms=config.linger_ms,
        batch_size=config.batch_size,
    )

    def send_all() -> None:
        for start in range(0, len(encoded), BATCH):
            futures = [
                producer.send(
                    topic, key=key.encode(), value=value, partition=partition_for(key, PARTITIONS)
                )
                for key, value in encoded[start : start + BATCH]
            ]
            producer.flush()
            for future in futures:
                future.get()

    seconds, _ = _timed(send_all)
    producer.close()
    return {
        "messages": len(encoded),
        "seconds": round(seconds, 3),
        "per_second": round(len(encoded) / seconds),
    }


def _create_topic(bootstrap: str, topic: str) -> None:
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        admin.close()


def _measure(name: str, lines: list[str], work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One measurement, run in this (fresh) process: ``embedded:W``, ``kafka:W``, ``raw`` or
    ``stages``."""
    if name == "stages":
        return _stages(lines)
    if name == "raw":
        return _raw_producer(args.bootstrap, _encoded(lines))
    backend, workers = name.split(":")
    keys = work / f"keys-{backend}-{workers}"
    if backend == "embedded":
        with SqliteEventLog(work / f"log-{workers}.sqlite", partitions=PARTITIONS) as log:
            return _ingest(lines, log, keys, int(workers))
    config = KafkaLogConfig(
        args.bootstrap,
        topic=f"bench.ingest.{uuid.uuid4().hex[:8]}",
        partitions=PARTITIONS,
        index_path=work / f"kafka-index-{workers}.sqlite",
        event_id_of=touchpoint_event_id,
    )
    with KafkaEventLog(config) as kafka_log:
        return _ingest(lines, kafka_log, keys, int(workers))


def _in_fresh_process(
    name: str, input_path: Path, work: Path, args: argparse.Namespace, bootstrap: str | None = None
) -> dict[str, Any]:
    """Run :func:`_measure` in a new interpreter and return what it printed."""
    command = [sys.executable, __file__, "--measure", name, "--input", str(input_path)]
    command += ["--workdir", str(work), "--events", str(args.events)]
    if bootstrap:
        command += ["--bootstrap", bootstrap]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _embedded(input_path: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    runs = [_in_fresh_process(f"embedded:{w}", input_path, work, args) for w in (0, args.workers)]
    best = max(runs, key=lambda run: run["per_second"])
    return {
        **best,
        "runs": runs,
        "target_per_second": TARGET_EMBEDDED_PER_S,
        "meets_target": best["per_second"] >= TARGET_EMBEDDED_PER_S,
    }


def _kafka(input_path: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    with given_or_tansu(args.bootstrap, work) as bootstrap:

        def measure(name: str) -> dict[str, Any]:
            return _in_fresh_process(name, input_path, work, args, bootstrap)

        raw_runs = [measure("raw")]
        runs = [measure(f"kafka:{w}") for w in (0, args.workers)]
        raw_runs.append(measure("raw"))  # the broker is fuller now
    best = max(runs, key=lambda run: run["per_second"])
    raw = max(raw_runs, key=lambda run: run["per_second"])  # the stricter baseline
    ratio = best["per_second"] / raw["per_second"]
    return {
        "ingest": best,
        "runs": runs,
        "raw_producer": raw,
        "raw_producer_runs": raw_runs,
        "ratio_to_raw": round(ratio, 3),
        "target_ratio": TARGET_KAFKA_VS_RAW,
        "meets_target": ratio >= TARGET_KAFKA_VS_RAW,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bootstrap", default=None)
    parser.add_argument("--workers", type=int, default=_cpus(), help="admission processes")
    parser.add_argument("--only", choices=("embedded", "kafka"), default=None)
    # Internal: one measurement in a fresh process (see _in_fresh_process).
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.measure:
        lines = args.input.read_text(encoding="utf-8").splitlines()
        print(json.dumps(_measure(args.measure, lines, args.workdir, args)))
        return 0

    lines = _lines(args.events, args.seed)
    with tempfile.TemporaryDirectory(prefix="st-bench-") as tmp:
        work = Path(tmp)
        input_path = work / "input.ndjson"
        input_path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        del lines
        report: dict[str, Any] = {
            "benchmark": "ingest: validate + seal + encode + append",
            "events": args.events,
            "batch": BATCH,
            "machine": {"python": sys.version.split()[0], "cpus": _cpus(), "node": platform.node()},
        }
        if args.only != "kafka":
            report["embedded"] = _embedded(input_path, work, args)
        if args.only != "embedded":
            report["kafka"] = _kafka(input_path, work, args)
        if args.only is None:
            report["stages"] = _in_fresh_process("stages", input_path, work, args)
    print(json.dumps(report, indent=2))
    return 0


def _cpus() -> int:
    return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
