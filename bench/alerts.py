"""Alerts benchmark: latency from a touchpoint's append to its alert on the alerts topic.

Prints one JSON document. A steady stream of touchpoints (``--rate`` a second for ``--seconds``,
appended every ``--tick-ms`` in small batches through intake, the Avro serde and the Kafka log)
goes through the live pipeline as ``servicetrace project --follow`` runs it: the projector's
follow loop, with the risk engine and the outbox relay in its heartbeat, as fast as it goes.
For every ``raised`` alert on ``servicetrace.alerts.v1`` the latency is the moment a consumer
received it minus the moment the *last* of its triggering touchpoints was handed to ``append``
(an alert cannot exist before all its triggers do; for ``repeat_request`` that is the request
that reached the threshold). Target: p99 < 500 ms at 2,000 touchpoints/s.

Baseline, measured in the same run on the same broker: the raw Kafka round trip of a plain
message (kafka-python producer with the log's settings → the same consumer as the alerts one),
produced at the same rate in the same batches. Ratios compare the two.

Workload: ``--repeat-share`` of the touchpoints belong to customers who make three inbound
requests on one service type a few seconds apart (``repeat_request`` fires at the third);
``--complaint-share`` to customers who complain twice and then call about something else (the
second complaint raises the sensitive flag, the call an ``agent_warning``); the rest are
self-service contacts of ``--customers`` other customers, which fire no rule. Touchpoints carry
the wall clock as ``occurred_at`` and ``recorded_at``. The defaults make ~100 alerts a second.

The pipeline reads the touchpoint topic with the live settings by default (poll timeout 50 ms,
fetch wait 10 ms, reads end at the high watermark; see ``services.settings``);
``--poll-timeout-ms 300 --fetch-max-wait-ms 100 --no-end-at-highwater`` are the log's defaults.

Processes (2 cores; chdb and the GIL): the producer, the pipeline, the alerts consumer, and the
broker (tansu on a free loopback port unless ``--bootstrap`` or ``SERVICETRACE_KAFKA_BOOTSTRAP``
names one). Times are ``time.monotonic()``, one clock for every process of the machine. The
pipeline records when each stage of each cycle ended, its time reading the log and in the
cyclic GC, and its CPU time, so every alert's latency is also split into: waiting for the pass
that reads it, projecting, deciding, publishing (relay and delivery). ``machine_load_while_
producing`` says how many cores the bench and everything else used: the machine may be shared.

Usage: ``python bench/alerts.py [--seconds 40] [--rate 2000] [--bootstrap HOST:PORT]
[--workdir DIR (keeps the raw records)] [--profile (cProfile of the pipeline, in the workdir)]``
"""

from __future__ import annotations

import argparse
import bisect
import cProfile
import gc
import heapq
import json
import math
import multiprocessing
import os
import platform
import random
import resource
import struct
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# bench/projections.py is named like the package: keep this directory off the import path (the
# spawned processes inherit it), or ``import projections`` would import that script. For the
# same reason nothing from ``projections`` is imported here for type checking: mypy puts this
# directory on its path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

TARGET_P99_MS = 500.0
PARTITIONS = 6
PEPPER = "bench-pepper-0123456789"
#: The consumers' fetch wait: tansu answers an empty fetch only when this has passed (it does
#: not wake a waiting fetch when records arrive), so it bounds what a consumer adds.
CONSUMER_FETCH_WAIT_MS = 10
#: The follower's sleep after a pass that found nothing (``servicetrace project --poll``); at
#: 2,000 touchpoints/s every pass finds something, so it only matters before and after.
IDLE_POLL_S = 0.05
#: How long the consumers keep listening once the pipeline has caught up.
DRAIN_S = 2.0
SERVICE_TYPES = ("outage", "billing", "meter_reading", "new_connection", "tariff", "payment")
REQUEST_KINDS = ("service_request", "inquiry", "report")
CALL_CHANNELS = ("phone", "web", "app", "chat")


@dataclass(frozen=True, slots=True)
class Options:
    """What every process of one run needs to know (picklable: processes are spawned)."""

    bootstrap: str
    workdir: str
    tag: str
    seconds: float
    rate: float
    tick_s: float
    repeat_share: float
    complaint_share: float
    gap_s: float
    customers: int
    seed: int
    poll_timeout_ms: int
    fetch_max_wait_ms: int
    end_at_highwater: bool
    profile: bool

    def topic(self, name: str) -> str:
        return f"bench.alerts.{self.tag}.{name}"


# --- workload ---------------------------------------------------------------------------------


class Workload:
    """Raw touchpoint records (the submitted shape) for the producer, tick after tick.

    Scripted customers start at a steady pace (so that their touchpoints make up
    ``repeat_share`` and ``complaint_share`` of the stream) and each has three touchpoints,
    ``gap_s`` x U(0.5, 1.5) apart; their steps go out when due, and background touchpoints
    fill each tick up to the rate. Starts are spread at random over time, so alerts come
    steadily, not in waves.
    """

    def __init__(self, opts: Options) -> None:
        self._opts = opts
        self._rng = random.Random(opts.seed)
        #: (due, tie-breaker, customer, channel, kind, service type) of scripted steps.
        self._due: list[tuple[float, int, str, str, str, str]] = []
        self._started: Counter[str] = Counter()
        self._clock: float | None = None
        self._seq = 0

    @property
    def scenarios(self) -> dict[str, int]:
        return {"repeat_request": self._started["R"], "complaints": self._started["S"]}

    def records(self, count: int, moment: datetime, now: float) -> list[dict[str, Any]]:
        """``count`` records (more when scripted steps are due beyond it) stamped ``moment``."""
        self._start_scenarios(now)
        steps = []
        while self._due and self._due[0][0] <= now:
            steps.append(heapq.heappop(self._due)[2:])
        background = [self._background() for _ in range(max(0, count - len(steps)))]
        rows = steps + background
        self._rng.shuffle(rows)
        return [self._record(*row, moment) for row in rows]

    def _start_scenarios(self, now: float) -> None:
        """Start the scenarios of the time elapsed since the last call, at random moments."""
        opts, rng = self._opts, self._rng
        last, self._clock = self._clock, now
        if last is None:
            return
        for family, share in (("R", opts.repeat_share), ("S", opts.complaint_share)):
            expected = (now - last) * opts.rate * share / 3
            starts = int(expected) + (rng.random() < expected - int(expected))
            for _ in range(starts):
                self._script(family, rng.uniform(last, now))

    def _script(self, family: str, start: float) -> None:
        rng = self._rng
        self._started[family] += 1
        customer = f"{family}{self._opts.tag}-{self._started[family]}"
        first, other = rng.sample(SERVICE_TYPES, 2)
        if family == "R":  # one channel: three channels would also be channel hopping
            channel = rng.choice(CALL_CHANNELS)
            steps = [(channel, rng.choice(REQUEST_KINDS), first) for _ in range(3)]
        else:
            # Two complaints raise the sensitive flag; the call about something else is the
            # agent warning (one request on ``other``: no repeat; one channel: no hopping).
            steps = [("phone", "complaint", first)] * 2 + [("phone", "inquiry", other)]
        due = start
        for channel, kind, service in steps:
            self._seq += 1
            heapq.heappush(self._due, (due, self._seq, customer, channel, kind, service))
            due += rng.uniform(0.5, 1.5) * self._opts.gap_s

    def _background(self) -> tuple[str, str, str, str]:
        n = self._rng.randrange(self._opts.customers)
        service = SERVICE_TYPES[n % len(SERVICE_TYPES)]
        return f"B{self._opts.tag}-{n}", "ivr", "self_service", service

    def _record(
        self, customer: str, channel: str, kind: str, service: str, moment: datetime
    ) -> dict[str, Any]:
        self._seq += 1
        stamp = moment.isoformat()
        return {
            "source": {"system": "bench", "event_id": f"{self._opts.tag}-{self._seq}"},
            "customer": {"id": customer, "phone": f"+86 139 {zlib.crc32(customer.encode()):010d}"},
            "occurred_at": stamp,
            "recorded_at": stamp,
            "channel": channel,
            "direction": "inbound",
            "actor": {"type": "customer"},
            "kind": kind,
            "service_type": service,
            "outcome": "resolved" if kind == "self_service" else "pending",
        }


# --- processes --------------------------------------------------------------------------------


def _now() -> float:
    return time.monotonic()


def _settings(opts: Options, role: str) -> Any:
    from services.settings import Settings

    return Settings(
        home=Path(opts.workdir) / role,
        log="kafka",
        kafka_bootstrap=opts.bootstrap,
        kafka_topic=opts.topic("touchpoints"),
        kafka_deadletter_topic=opts.topic("deadletter"),
        kafka_alerts_topic=opts.topic("alerts"),
        kafka_flags_topic=opts.topic("flags"),
        pepper=PEPPER,
        kafka_poll_timeout_ms=opts.poll_timeout_ms,
        kafka_fetch_max_wait_ms=opts.fetch_max_wait_ms,
        kafka_end_at_highwater=opts.end_at_highwater,
    ).for_following()  # what `servicetrace project --follow` runs with


def _write(path: str, data: Any) -> None:
    Path(path).write_text(json.dumps(data), encoding="utf-8")


def _read(path: str) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _pace(opts: Options, send: Any) -> tuple[int, float, list[float]]:
    """Call ``send(count, now)`` every tick with what the rate makes due; returns the count,
    the elapsed seconds and each call's duration. A late tick sends more, so the rate holds."""
    started = _now()
    sent = 0
    durations: list[float] = []
    tick = started
    while (now := _now()) - started < opts.seconds:
        due = int((now - started) * opts.rate) - sent
        if due > 0:
            send(due, now)
            durations.append(_now() - now)
            sent += due
        tick += opts.tick_s
        time.sleep(max(0.0, tick - _now()))
    return sent, _now() - started, durations


def run_producer(opts: Options, out: str) -> None:
    """Touchpoints through intake, the Avro serde and the Kafka log, at the paced rate."""
    from events.log import Entry
    from services.platform import Platform

    workload = Workload(opts)
    appended: list[tuple[str, float, float, int, int]] = []
    with Platform(_settings(opts, "producer")) as plat:
        log, intake, serde = plat.log, plat.intake, plat.serde
        assert log.partitions == PARTITIONS

        def send(count: int, now: float) -> None:
            records = workload.records(count, datetime.now(UTC), now)
            intake.prepare(records)
            touchpoints = [intake.touchpoint(r) for r in records]
            entries = [Entry(str(t.event_id), t.customer_id, serde.encode(t)) for t in touchpoints]
            handed = _now()
            results = log.append(entries)
            acked = _now()
            appended.extend((r.event_id, handed, acked, r.partition, r.position) for r in results)

        sent, seconds, durations = _pace(opts, send)
        log.flush()
    _write(
        out,
        {
            "sent": sent,
            "seconds": seconds,
            "batch_seconds": durations,
            "scenarios": workload.scenarios,
            "appended": appended,
        },
    )


def run_pipeline(opts: Options, ready: Any, stop: Any, out: str) -> None:
    """The live pipeline as ``servicetrace project --follow`` runs it: :meth:`Projector.follow`
    with the risk engine and the relay in its heartbeat, until the producer has stopped and a
    pass finds nothing new. Records when each stage of each cycle ended, the time it spent
    reading the log and in the cyclic GC, and its CPU time."""
    from services.platform import Platform

    cycles: list[dict[str, Any]] = []
    with Platform(_settings(opts, "pipeline")) as plat:
        projector, risk, relay = plat.projector, plat.risk_engine, plat.relay
        projector.run_once(), risk.run_once(), relay.run_once()  # connect, reconcile, warm up
        reading = [0.0]
        read = plat.log.read

        def timed_read(partition: int, position: int, limit: int = 1000) -> Any:
            started = _now()
            try:
                return read(partition, position, limit)
            finally:
                reading[0] += _now() - started

        plat.log.read = timed_read  # type: ignore[method-assign]
        collecting = [0.0, 0.0]  # this cycle's time in cyclic GC; when the current pass began

        def on_gc(phase: str, info: dict[str, Any]) -> None:
            if phase == "start":
                collecting[1] = _now()
            else:
                collecting[0] += _now() - collecting[1]

        gc.callbacks.append(on_gc)
        tracked_at_start = len(gc.get_objects())
        done = threading.Event()
        cycle = {"began": _now(), "cpu": time.process_time()}

        def heartbeat(projected: Any) -> None:  # ProjectionStats (see mypy note at the top)
            stopping = stop.is_set()
            p_end = _now()
            decided = risk.run_once()
            r_end = _now()
            relayed = relay.run_once()
            end = _now()
            cycles.append(
                {
                    "began": cycle["began"],
                    "projected": p_end,
                    "decided": r_end,
                    "relayed": end,
                    "reading": reading[0],
                    "gc": collecting[0],
                    "cpu": time.process_time() - cycle["cpu"],
                    "events": projected.events,
                    "batches": projected.batches,
                    "positions": [projected.positions.get(p, 0) for p in range(PARTITIONS)],
                    "decisions": len(decided.applied),
                    "published": sum(relayed.published.values()),
                }
            )
            if stopping and projected.events == 0:
                done.set()
            reading[0] = collecting[0] = 0.0
            cycle["began"], cycle["cpu"] = _now(), time.process_time()

        profiler = cProfile.Profile() if opts.profile else None
        ready.set()
        if profiler is not None:
            profiler.enable()
        projector.follow(done, poll_interval=IDLE_POLL_S, heartbeat=heartbeat)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(Path(opts.workdir) / "pipeline.pstats"))
    _write(
        out,
        {
            "cycles": cycles,
            "gc_tracked": {"start": tracked_at_start, "end": len(gc.get_objects())},
        },
    )


def run_consumer(opts: Options, topic: str, ready: Any, stop: Any, out: str) -> None:
    """Every record of ``topic`` with the moment it was received (a poll's batch at once)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=opts.bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=CONSUMER_FETCH_WAIT_MS,
    )
    partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    consumer.poll(timeout_ms=200)
    ready.set()
    received: list[tuple[float, bytes]] = []
    while not stop.is_set():
        batch = consumer.poll(timeout_ms=50)
        moment = _now()
        for records in batch.values():
            received.extend((moment, record.value) for record in records)
    consumer.close()
    if topic == opts.topic("alerts"):
        from services.decisions.messages import ALERTS_TOPIC, MessageSerdes

        serdes = MessageSerdes()
        alerts = []
        for moment, value in received:
            message = serdes.decode(ALERTS_TOPIC, value)
            alerts.append([moment, message["change"], message["rule_id"], message["triggers"]])
        _write(out, {"alerts": alerts})
    else:
        _write(out, {"latencies": [m - struct.unpack_from(">d", v)[0] for m, v in received]})


def run_raw_producer(opts: Options, topic: str, out: str) -> None:
    """Plain messages (the send moment, padded to an alert's size) with the log's producer
    settings, at the paced rate, flushed every tick like the relay's appends."""
    from kafka import KafkaProducer

    from events.log import partition_for
    from events.log.kafka import KafkaLogConfig

    config = KafkaLogConfig(opts.bootstrap, index_path=Path("unused"))
    producer = KafkaProducer(
        bootstrap_servers=opts.bootstrap,
        acks="all",
        enable_idempotence=True,
        compression_type=config.compression,
        linger_ms=config.linger_ms,
        batch_size=config.batch_size,
    )
    padding = os.urandom(400)
    counter = 0

    def send(count: int, now: float) -> None:
        nonlocal counter
        futures = []
        for _ in range(count):
            counter += 1
            key = f"C{counter % 5000}"
            value = struct.pack(">d", _now()) + padding
            partition = partition_for(key, PARTITIONS)
            futures.append(producer.send(topic, value=value, key=key.encode(), partition=partition))
        producer.flush()
        for future in futures:
            future.get()

    sent, seconds, durations = _pace(opts, send)
    producer.close()
    _write(out, {"sent": sent, "seconds": seconds, "batch_seconds": durations})


# --- orchestration ----------------------------------------------------------------------------


def _create_topics(bootstrap: str, topics: Sequence[str]) -> None:
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(topic, PARTITIONS, 1) for topic in topics])
    finally:
        admin.close()


def _spawn() -> Any:
    return multiprocessing.get_context("spawn")


def _baseline(opts: Options) -> dict[str, Any]:
    ctx = _spawn()
    work = Path(opts.workdir)
    topic = opts.topic("baseline")
    ready, stop = ctx.Event(), ctx.Event()
    consumed, produced = str(work / "baseline-consumer.json"), str(work / "baseline.json")
    consumer = ctx.Process(
        target=run_consumer, args=(opts, topic, ready, stop, consumed), daemon=True
    )
    consumer.start()
    ready.wait(60)
    producer = ctx.Process(target=run_raw_producer, args=(opts, topic, produced), daemon=True)
    producer.start()
    producer.join()
    time.sleep(DRAIN_S)
    stop.set()
    consumer.join()
    _check(producer, consumer)
    sent = _read(produced)
    latencies = sorted(_read(consumed)["latencies"])
    return {
        "what": "plain message, kafka-python producer (log settings) → consumer, same rate",
        "sent": sent["sent"],
        "received": len(latencies),
        "achieved_rate": round(sent["sent"] / sent["seconds"], 1),
        "latency_ms": _summary(latencies),
    }


def _check(*processes: Any) -> None:
    failed = [p.name for p in processes if p.exitcode != 0]
    if failed:
        raise SystemExit(f"bench process(es) failed: {failed}")


def _alerts_run(opts: Options) -> dict[str, Any]:
    ctx = _spawn()
    work = Path(opts.workdir)
    consumer_ready, pipeline_ready = ctx.Event(), ctx.Event()
    stop_pipeline, stop_consumer = ctx.Event(), ctx.Event()
    paths = {name: str(work / f"{name}.json") for name in ("producer", "pipeline", "consumer")}
    consumer = ctx.Process(
        target=run_consumer,
        args=(opts, opts.topic("alerts"), consumer_ready, stop_consumer, paths["consumer"]),
        name="consumer",
        daemon=True,
    )
    pipeline = ctx.Process(
        target=run_pipeline,
        args=(opts, pipeline_ready, stop_pipeline, paths["pipeline"]),
        name="pipeline",
        daemon=True,
    )
    producer = ctx.Process(
        target=run_producer, args=(opts, paths["producer"]), name="producer", daemon=True
    )
    consumer.start()
    pipeline.start()
    consumer_ready.wait(60)
    if not pipeline_ready.wait(180):
        raise SystemExit("the pipeline did not start")
    watched = [consumer.pid, pipeline.pid, _broker_pid(opts.bootstrap)]
    before = _cpu_sample(watched)
    producer.start()
    producer.join()
    load = _machine_load(before, _cpu_sample(watched))
    stop_pipeline.set()
    pipeline.join()
    time.sleep(DRAIN_S)
    stop_consumer.set()
    consumer.join()
    _check(producer, pipeline, consumer)
    report = _analyse(_read(paths["producer"]), _read(paths["pipeline"]), _read(paths["consumer"]))
    return {**report, "machine_load_while_producing": load}


def _broker_pid(bootstrap: str) -> int | None:
    """The tansu process serving ``bootstrap`` (its CPU is the bench's), if it runs here."""
    wanted = f"tcp://{bootstrap}".encode()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if wanted in (entry / "cmdline").read_bytes():
                return int(entry.name)
        except OSError:
            continue
    return None


def _cpu_sample(pids: Sequence[int | None]) -> tuple[float, float, float] | None:
    """(machine busy, machine total, the bench's own) CPU seconds so far; ``None`` off Linux.

    The bench's own: this process, its waited-for children (the producer, once joined) and
    the running ``pids`` (the pipeline, the consumer, the broker)."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        with open("/proc/stat", encoding="ascii") as stat:
            values = [int(v) for v in stat.readline().split()[1:9]]
        own = sum(
            getattr(resource.getrusage(who), field)
            for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
            for field in ("ru_utime", "ru_stime")
        )
        for pid in pids:
            if pid is not None:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                own += (int(fields[11]) + int(fields[12])) / ticks
    except (OSError, ValueError):
        return None
    idle = values[3] + values[4]
    return (sum(values) - idle) / ticks, sum(values) / ticks, own


def _machine_load(before: Any, after: Any) -> dict[str, float] | None:
    """Cores busy while the producer ran: all of them, the bench's, everything else's."""
    if before is None or after is None:
        return None
    busy, total, own = (b - a for a, b in zip(before, after, strict=True))
    cores = os.cpu_count() or 1
    wall = total / cores
    return {
        "cores": cores,
        "busy_cores": round(busy / wall, 2),
        "bench_cores": round(own / wall, 2),
        "other_cores": round(max(0.0, busy - own) / wall, 2),
    }


def _analyse(produced: dict[str, Any], pipeline: dict[str, Any], consumed: dict[str, Any]) -> Any:
    appended = {row[0]: row[1:] for row in produced["appended"]}
    cycles = pipeline["cycles"]
    latencies: list[float] = []
    by_rule: dict[str, list[float]] = {}
    parts: dict[str, list[float]] = {k: [] for k in ("wait", "project", "decide", "publish")}
    changes: Counter[str] = Counter()
    unmatched = 0
    for received, change, rule, triggers in consumed["alerts"]:
        changes[change] += 1
        if change != "raised":
            continue
        known = [appended[t] for t in triggers if t in appended]
        if len(known) != len(triggers):
            unmatched += 1
            continue
        handed, _acked, partition, position = max(known)
        latency = received - handed
        latencies.append(latency)
        by_rule.setdefault(rule, []).append(latency)
        cycle = _covering(cycles, partition, position)
        if cycle is None:
            continue
        start = max(cycle["began"], handed)
        parts["wait"].append(start - handed)
        parts["project"].append(cycle["projected"] - start)
        parts["decide"].append(cycle["decided"] - cycle["projected"])
        # The relay publishes page by page: an alert can arrive before its pass has ended.
        parts["publish"].append(received - cycle["decided"])
    latencies.sort()
    seconds = produced["seconds"]
    durations = [c["relayed"] - c["began"] for c in cycles]
    busy = [c for c in cycles if c["events"]]
    acks = sorted(produced["batch_seconds"])
    p99 = _quantile(latencies, 0.99) * 1000 if latencies else float("inf")
    return {
        "touchpoints": produced["sent"],
        "achieved_rate": round(produced["sent"] / seconds, 1),
        "producer_batch_ms": _summary(acks),
        "scenarios": produced["scenarios"],
        "alert_messages": dict(changes),
        "alerts_raised": len(latencies),
        "alerts_unmatched": unmatched,
        "latency_ms": _summary(latencies),
        "latency_ms_by_rule": {rule: _summary(sorted(v)) for rule, v in sorted(by_rule.items())},
        "latency_split_ms": {name: _summary(sorted(v)) for name, v in parts.items()},
        "pipeline": {
            "cycles": len(cycles),
            "cycle_ms": _summary(sorted(durations)),
            "busy_cycle_ms": _summary(sorted(c["relayed"] - c["began"] for c in busy)),
            "project_ms": _summary(sorted(c["projected"] - c["began"] for c in busy)),
            "project_read_log_ms": _summary(sorted(c["reading"] for c in busy)),
            "gc_ms": _summary(sorted(c["gc"] for c in busy)),
            "cpu_share": round(sum(c["cpu"] for c in cycles) / max(1e-9, sum(durations)), 2),
            "decide_ms": _summary(sorted(c["decided"] - c["projected"] for c in busy)),
            "relay_ms": _summary(sorted(c["relayed"] - c["decided"] for c in busy)),
            "events_per_busy_cycle": round(sum(c["events"] for c in busy) / max(1, len(busy)), 1),
            "projected": sum(c["events"] for c in cycles),
            "log_end": sum(cycles[-1]["positions"]) if cycles else 0,
            "decisions": sum(c["decisions"] for c in cycles),
            "published": sum(c["published"] for c in cycles),
        },
        "target_p99_ms": TARGET_P99_MS,
        "meets_target": p99 < TARGET_P99_MS,
    }


def _covering(cycles: list[dict[str, Any]], partition: int, position: int) -> Any:
    """The first cycle whose projection committed ``position`` of ``partition``."""
    keys = [cycle["positions"][partition] for cycle in cycles]
    index = bisect.bisect_right(keys, position)
    return cycles[index] if index < len(cycles) else None


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank quantile of sorted values."""
    rank = max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))
    return ordered[rank]


def _summary(ordered: Sequence[float]) -> dict[str, Any]:
    """Milliseconds (the values are seconds, sorted)."""
    if not ordered:
        return {"count": 0}
    ms = [value * 1000 for value in ordered]
    return {
        "count": len(ms),
        "p50": round(_quantile(ms, 0.50), 1),
        "p95": round(_quantile(ms, 0.95), 1),
        "p99": round(_quantile(ms, 0.99), 1),
        "max": round(ms[-1], 1),
        "mean": round(sum(ms) / len(ms), 1),
    }


def _ratio(a: dict[str, Any], b: dict[str, Any], key: str) -> float | None:
    return round(a[key] / b[key], 1) if a.get(key) and b.get(key) else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0, help="how long to produce")
    parser.add_argument("--rate", type=float, default=2000.0, help="touchpoints a second")
    parser.add_argument("--tick-ms", type=float, default=50.0, help="one append every ...")
    parser.add_argument("--repeat-share", type=float, default=0.15)
    parser.add_argument("--complaint-share", type=float, default=0.03)
    parser.add_argument("--gap-seconds", type=float, default=3.0, help="between scripted steps")
    parser.add_argument("--customers", type=int, default=20_000, help="background customers")
    parser.add_argument("--baseline-seconds", type=float, default=15.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bootstrap", default=os.environ.get("SERVICETRACE_KAFKA_BOOTSTRAP"))
    # The live projector's read settings (SERVICETRACE_KAFKA_POLL_TIMEOUT_MS, ..._FETCH_MAX_
    # WAIT_MS, ..._END_AT_HIGHWATER); 300 / 100 / --no-end-at-highwater are the log's defaults.
    parser.add_argument(
        "--poll-timeout-ms", type=int, default=50, help="the pipeline's Kafka poll timeout"
    )
    parser.add_argument(
        "--fetch-max-wait-ms", type=int, default=10, help="the pipeline's Kafka fetch wait"
    )
    parser.add_argument(
        "--end-at-highwater",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the pipeline's reads end at the high watermark",
    )
    parser.add_argument(
        "--workdir", type=Path, default=None, help="keep the raw records here (default: a temp dir)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the pipeline into the workdir"
    )
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        if args.workdir is None:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="st-bench-alerts-"))
        else:
            args.workdir.mkdir(parents=True, exist_ok=True)
            tmp = str(args.workdir)
        from services.devbroker import given_or_tansu

        bootstrap = stack.enter_context(given_or_tansu(args.bootstrap, Path(tmp)))
        opts = Options(
            bootstrap=bootstrap,
            workdir=tmp,
            tag=uuid.uuid4().hex[:8],
            seconds=args.seconds,
            rate=args.rate,
            tick_s=args.tick_ms / 1000,
            repeat_share=args.repeat_share,
            complaint_share=args.complaint_share,
            gap_s=args.gap_seconds,
            customers=args.customers,
            seed=args.seed,
            poll_timeout_ms=args.poll_timeout_ms,
            fetch_max_wait_ms=args.fetch_max_wait_ms,
            end_at_highwater=args.end_at_highwater,
            profile=args.profile,
        )
        names = ("touchpoints", "deadletter", "alerts", "flags", "baseline")
        _create_topics(bootstrap, [opts.topic(name) for name in names])
        baseline_opts = Options(**{**asdict(opts), "seconds": args.baseline_seconds})
        baseline = _baseline(baseline_opts)
        run = _alerts_run(opts)
    base = baseline["latency_ms"]
    report = {
        "benchmark": "alerts: append → alert on the alerts topic, Kafka backend",
        "latency": "last trigger handed to the log's append → alert received by a consumer",
        "machine": {
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
            "node": platform.node(),
        },
        "broker": "external" if args.bootstrap else "tansu (in-memory, started by the bench)",
        "settings": {
            "seconds": args.seconds,
            "rate": args.rate,
            "tick_ms": args.tick_ms,
            "repeat_share": args.repeat_share,
            "complaint_share": args.complaint_share,
            "gap_seconds": args.gap_seconds,
            "partitions": PARTITIONS,
            "pipeline_poll_timeout_ms": args.poll_timeout_ms,
            "pipeline_fetch_max_wait_ms": args.fetch_max_wait_ms,
            "pipeline_end_at_highwater": args.end_at_highwater,
        },
        **run,
        "baseline_raw_round_trip": baseline,
        "ratio_to_baseline": {
            "p50": _ratio(run["latency_ms"], base, "p50"),
            "p99": _ratio(run["latency_ms"], base, "p99"),
        },
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
