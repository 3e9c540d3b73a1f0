"""The outbox relay publishes every alert and flag change exactly once, whatever interrupts it.

* Embedded (SQLite target logs): one message per alert change and per flag change, with the
  right fields, keyed by customer id, in each alert's workflow order; a second pass and a second
  relay instance publish nothing; later actions are published once.
* Crash windows, embedded and deterministic: the relay is made to fail at each point between
  appending and recording its positions (part of a batch appended, one topic appended and not
  the other, both appended and no position recorded, the source position recorded and the
  targets' not, one target recorded and not the other), then a fresh relay finishes the work.
  Nothing is missing, nothing is doubled, and what the fresh relay reports as *recovered* is
  exactly what had reached the logs after the recorded source position.
* The acceptance test, on the real broker: ``servicetrace relay --follow`` processes are
  SIGKILLed at seeded random moments while the store keeps growing; after every kill the topics
  hold no duplicate and every message before the recorded source position; at the end the
  topics hold exactly the messages the store's notification log maps to, each once.
* A subscriber written as the README shows it (kafka-python + fastavro with the ``.avsc`` files,
  no servicetrace code) decodes what the relay published.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import fastavro
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic

from events.log import Entry, EventLog, LogRecord, partition_for
from events.log.sqlite import SqliteEventLog
from projections.facts import Fact
from projections.policy import ProjectionConfig
from projections.risk import RuleSet, assess
from projections.risk.decisions import Decision
from services.decisions import DecisionsApp
from services.decisions.messages import ALERTS_TOPIC, FLAGS_TOPIC, MessageSerdes, to_message
from services.decisions.relay import OutboxRelay
from services.platform import Platform
from services.settings import Settings
from tests.factories import FOLD_EPOCH_US, make_fact

RULES = RuleSet()
CONFIG = ProjectionConfig()
HOUR = 3_600_000_000
DAY = 24 * HOUR
#: Stream time at which the alerts and the flag raises are due, the flag expiries not yet.
EARLY = FOLD_EPOCH_US + 10 * DAY
#: Stream time at which the flag expiries are due too.
LATE = FOLD_EPOCH_US + 200 * DAY
WHEN = "2026-02-01T10:00:00+00:00"
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def history(customer: str) -> list[Fact]:
    """Four requests in six hours (a repeat-request alert) and two complaints (the sensitive
    flag, later its expiry, and two SLA alerts once the complaints go unanswered)."""
    facts = [
        make_fact(f"{customer}-r{i}", FOLD_EPOCH_US + 2 * i * HOUR, customer_id=customer)
        for i in range(4)
    ]
    facts += [
        make_fact(f"{customer}-c{i}", FOLD_EPOCH_US + h * HOUR, "complaint", customer_id=customer)
        for i, h in enumerate((10, 30))
    ]
    return facts


def decide(customers: Sequence[str], stream_time: int) -> list[Decision]:
    return [d for c in customers for d in assess(history(c), RULES, CONFIG, stream_time).decisions]


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


# --- what the test did, as the messages it must see (independent of messages.py) -----------


class Ledger:
    """Drives a :class:`DecisionsApp` and writes down, for each change, the message a
    subscriber must receive: alert changes as (alert id, customer, rule, triggers, change,
    status, actor, note), flag changes as (customer, change, flagged, decision id, rule,
    triggers, actor, reason)."""

    def __init__(self, app: DecisionsApp) -> None:
        self.app = app
        self.alerts: list[tuple[Any, ...]] = []
        self.flags: list[tuple[Any, ...]] = []
        self.decisions: dict[str, Decision] = {}
        self.withdrawn: set[str] = set()

    def record(self, decisions: Sequence[Decision]) -> list[Decision]:
        wanted = [d for d in decisions if d.decision_id not in self.withdrawn]
        applied = self.app.record(wanted)
        for d in applied:
            self.decisions[d.decision_id] = d
            if d.is_alert:
                self._alert(d.decision_id, "raised", "open", None, None)
            else:
                flagged = d.action != "flag_expired"
                change = d.action.removeprefix("flag_")
                self.flags.append(
                    (
                        d.customer_id,
                        change,
                        flagged,
                        d.decision_id,
                        d.rule_id,
                        d.triggers,
                        None,  # actor
                        None,  # reason
                    )
                )
        return applied

    def _alert(self, alert_id: str, change: str, status: str, actor: Any, note: Any) -> None:
        d = self.decisions[alert_id]
        self.alerts.append(
            (alert_id, d.customer_id, d.rule_id, d.triggers, change, status, actor, note)
        )

    def alert_ids(self, customer: str, rule_id: str | None = None) -> list[str]:
        """The customer's alerts (of one rule), in event-time order."""
        chosen = [
            d
            for d in self.decisions.values()
            if d.is_alert and d.customer_id == customer and rule_id in {None, d.rule_id}
        ]
        return [d.decision_id for d in sorted(chosen, key=lambda d: (d.at, d.decision_id))]

    def ack(self, alert_id: str, by: str) -> None:
        self.app.acknowledge(alert_id, by=by)
        self._alert(alert_id, "acknowledged", "acknowledged", by, None)

    def resolve(self, alert_id: str, by: str, note: str) -> None:
        self.app.resolve(alert_id, by=by, note=note)
        self._alert(alert_id, "resolved", "resolved", by, note)

    def dismiss(self, alert_id: str, by: str, reason: str) -> None:
        self.app.dismiss(alert_id, by=by, reason=reason)
        self._alert(alert_id, "dismissed", "dismissed", by, reason)

    def clear(self, customer: str, by: str, reason: str) -> None:
        self.app.clear_flag(customer, by=by, reason=reason)
        self.flags.append((customer, "cleared", False, None, None, (), by, reason))

    def withdraw(self, decision_id: str, reason: str) -> None:
        d = self.decisions[decision_id]
        assert self.app.withdraw([(d.customer_id, decision_id)], reason) == 1
        self.withdrawn.add(decision_id)
        if d.is_alert:
            self._alert(decision_id, "withdrawn", "withdrawn", "risk engine", reason)
        else:
            risk = self.app.risk_of(d.customer_id)
            assert risk is not None
            self.flags.append(
                (d.customer_id, "withdrawn", risk.sensitive, decision_id, None, (), None, reason)
            )


# --- reading what was published ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Published:
    topic: str
    record: LogRecord
    message: dict[str, Any]


def published(logs: dict[str, EventLog]) -> list[Published]:
    """Every message in both logs, decoded, in (topic, partition, position) order."""
    serdes = MessageSerdes()
    return [
        Published(topic, record, serdes.decode(topic, record.value))
        for topic, log in logs.items()
        for partition in range(log.partitions)
        for record in log.read_all(partition)
    ]


def alert_tuple(message: dict[str, Any]) -> tuple[Any, ...]:
    m = message
    return (
        m["alert_id"],
        m["customer_id"],
        m["rule_id"],
        tuple(m["triggers"]),
        m["change"],
        m["status"],
        m["actor"],
        m["note"],
    )


def flag_tuple(message: dict[str, Any]) -> tuple[Any, ...]:
    m = message
    return (
        m["customer_id"],
        m["change"],
        m["flagged"],
        m["decision_id"],
        m["rule_id"],
        tuple(m["triggers"]),
        m["actor"],
        m["reason"],
    )


def check_published(logs: dict[str, EventLog], ledger: Ledger) -> list[Published]:
    """One message per change, with the right fields, keyed and ordered as promised."""
    found = published(logs)
    ids = [p.record.event_id for p in found]
    assert len(ids) == len(set(ids)), "a message id appears twice"
    assert all(p.record.event_id == p.message["message_id"] for p in found)
    for p in found:
        assert p.record.key == p.message["customer_id"]
        assert p.record.partition == partition_for(p.record.key, logs[p.topic].partitions)

    alerts = [p for p in found if p.topic == ALERTS_TOPIC]
    flags = [p for p in found if p.topic == FLAGS_TOPIC]
    assert Counter(alert_tuple(p.message) for p in alerts) == Counter(ledger.alerts)
    assert Counter(flag_tuple(p.message) for p in flags) == Counter(ledger.flags)
    for p in alerts:
        decision = ledger.decisions[p.message["alert_id"]]
        assert _micros(p.message["at"]) == decision.at
        assert p.message["severity"] == decision.severity
        assert p.message["rule_version"] == decision.rule_version
    # One customer's messages share a partition, so each alert's changes arrive in workflow
    # order (``published`` lists each partition in position order).
    for alert_id in {p.message["alert_id"] for p in alerts}:
        got = [p.message["change"] for p in alerts if p.message["alert_id"] == alert_id]
        want = [t[4] for t in ledger.alerts if t[0] == alert_id]
        assert got == want, alert_id
    return found


# --- the embedded stores -------------------------------------------------------------------


@contextmanager
def opened(directory: Path) -> Iterator[tuple[DecisionsApp, dict[str, EventLog]]]:
    """The decisions store and both embedded target logs in ``directory``, as a fresh process
    would open them."""
    app = DecisionsApp(f"sqlite:///{directory / 'decisions.sqlite'}", clock=lambda: WHEN)
    logs: dict[str, EventLog] = {
        ALERTS_TOPIC: SqliteEventLog(directory / "alerts.sqlite", partitions=3),
        FLAGS_TOPIC: SqliteEventLog(directory / "flags.sqlite", partitions=2),
    }
    try:
        yield app, logs
    finally:
        for log in logs.values():
            log.close()
        app.close()


def total(stats_published: dict[str, int]) -> int:
    return sum(stats_published.values())


def test_every_alert_and_flag_change_is_published_once_keyed_by_customer(
    tmp_path: Path,
) -> None:
    customers = [f"C{i:02d}" for i in range(6)]
    with opened(tmp_path) as (app, logs):
        ledger = Ledger(app)
        ledger.record(decide(customers, EARLY))
        c0 = ledger.alert_ids("C00", "repeat_request")[0]
        ledger.ack(c0, "sup-ana")
        ledger.resolve(c0, "sup-ana", "called the customer back")
        ledger.dismiss(ledger.alert_ids("C01", "sla_overdue")[0], "sup-ben", "answered by post")
        ledger.ack(ledger.alert_ids("C02", "sla_overdue")[1], "sup-ana")
        ledger.clear("C03", "sup-ben", "complaint settled in person")
        ledger.withdraw(ledger.alert_ids("C04", "repeat_request")[0], "a late touchpoint")
        c5_flag = next(
            d.decision_id
            for d in ledger.decisions.values()
            if d.customer_id == "C05" and not d.is_alert
        )
        ledger.withdraw(c5_flag, "a late touchpoint")
        assert {t[4] for t in ledger.alerts} == {
            "raised",
            "acknowledged",
            "resolved",
            "dismissed",
            "withdrawn",
        }
        assert {t[1] for t in ledger.flags} == {"raised", "cleared", "withdrawn"}

        relay = OutboxRelay(app, logs, page=7)
        stats = relay.run_once()
        assert stats.published == {ALERTS_TOPIC: len(ledger.alerts), FLAGS_TOPIC: len(ledger.flags)}
        assert stats.recovered == 0
        assert stats.notifications == app.recorder.max_notification_id()
        first = check_published(logs, ledger)

        again = relay.run_once()
        assert (again.notifications, total(again.published)) == (0, 0)
        assert len(published(logs)) == len(first)

    # A second relay (a new process: fresh objects on the same files) publishes nothing.
    with opened(tmp_path) as (app, logs):
        ledger.app = app
        relay = OutboxRelay(app, logs, page=7)
        stats = relay.run_once()
        assert (stats.notifications, total(stats.published), stats.recovered) == (0, 0, 0)
        assert len(published(logs)) == len(first)

        # Later actions and decisions are published exactly once.
        before = (len(ledger.alerts), len(ledger.flags))
        ledger.resolve(ledger.alert_ids("C02", "sla_overdue")[1], "sup-ana", "engineer sent")
        ledger.ack(ledger.alert_ids("C05", "sla_overdue")[0], "sup-cy")
        later = ledger.record(decide([*customers, "C06"], LATE))
        assert {d.action for d in later} >= {"flag_expired", "alert", "flag_raised"}
        stats = relay.run_once()
        assert stats.published == {
            ALERTS_TOPIC: len(ledger.alerts) - before[0],
            FLAGS_TOPIC: len(ledger.flags) - before[1],
        }
        assert stats.recovered == 0
        check_published(logs, ledger)
        assert total(relay.run_once().published) == 0


# --- crash windows, embedded ---------------------------------------------------------------


class SimulatedCrash(Exception):
    """The relay process dies at this instant."""


class Outbox:
    """The messages the store's notification log maps to, computed incrementally."""

    def __init__(self, app: DecisionsApp) -> None:
        self.app = app
        self.messages: list[tuple[str, str, int]] = []
        self._next = 1

    def update(self) -> list[tuple[str, str, int]]:
        app = self.app

        def load(originator_id: Any, version: int) -> Any:
            return app.repository.get(originator_id, version=version)

        while page := app.recorder.select_notifications(self._next, 1000):
            for notification in page:
                message = to_message(app.mapper.to_domain_event(notification), load)
                if message is not None:
                    self.messages.append((message[0], message[2]["message_id"], notification.id))
            self._next = page[-1].id + 1
        return self.messages


def store_messages(app: DecisionsApp) -> list[tuple[str, str, int]]:
    """(topic, message id, notification id) of every message the notification log maps to,
    computed from the store alone (no relay)."""
    return Outbox(app).update()


#: Where the relay dies; every window is armed at its third occurrence, so earlier pages
#: completed normally and later ones are left for the fresh relay.
WINDOWS = [
    "part of the alerts batch appended",
    "alerts appended, flags not",
    "both appended, no position recorded",
    "source recorded, targets not",
    "alerts target recorded, flags not",
]
#: Windows that leave messages in a log after the recorded source position.
IN_FLIGHT_WINDOWS = WINDOWS[:3]


def arm(
    window: str, logs: dict[str, EventLog], monkeypatch: pytest.MonkeyPatch, nth: int = 3
) -> None:
    alerts, flags = logs[ALERTS_TOPIC], logs[FLAGS_TOPIC]
    calls = Counter[str]()

    def due() -> bool:
        calls[window] += 1
        return calls[window] == nth

    if window in WINDOWS[:2]:
        log = alerts if window == WINDOWS[0] else flags
        append = log.append

        def crashing_append(entries: Sequence[Entry]) -> Any:
            if due():
                if window == WINDOWS[0]:
                    append(entries[: max(1, len(entries) // 2)])
                raise SimulatedCrash(window)
            return append(entries)

        monkeypatch.setattr(log, "append", crashing_append)
        return
    store, consumer = {
        WINDOWS[2]: (alerts.positions, "relay:source"),
        WINDOWS[3]: (alerts.positions, "relay"),
        WINDOWS[4]: (flags.positions, "relay"),
    }[window]
    commit = store.commit

    def crashing_commit(name: str, positions: Any) -> None:
        if name == consumer and due():
            raise SimulatedCrash(window)
        commit(name, positions)

    monkeypatch.setattr(store, "commit", crashing_commit)


def crash(
    directory: Path, window: str, monkeypatch: pytest.MonkeyPatch, page: int
) -> tuple[set[str], int]:
    """Run a relay that dies in ``window``; what the logs held and the recorded source then."""
    with opened(directory) as (app, logs), monkeypatch.context() as patch:
        arm(window, logs, patch)
        with pytest.raises(SimulatedCrash):
            OutboxRelay(app, logs, page=page).run_once()
        held = [p.record.event_id for p in published(logs)]
        assert len(held) == len(set(held)), f"a duplicate right after crashing in {window!r}"
        source = logs[ALERTS_TOPIC].positions.get("relay:source").get(0, 1)
    return set(held), source


def finish(directory: Path, held: set[str], source: int) -> None:
    """A fresh relay completes the work: each message once; it recovers exactly the messages
    that had reached the logs after the recorded source position."""
    with opened(directory) as (app, logs):
        expected = store_messages(app)
        before_source = {mid for _, mid, n in expected if n < source}
        assert before_source <= held, "a message before the recorded position is missing"
        in_flight = held - before_source
        stats = OutboxRelay(app, logs, page=7).run_once()
        assert stats.recovered == len(in_flight)
        assert total(stats.published) == len(expected) - len(held)
        found = Counter((p.topic, p.record.event_id) for p in published(logs))
        assert found == Counter((topic, mid) for topic, mid, _ in expected)


def seed_store(directory: Path, customers: int) -> None:
    with opened(directory) as (app, _):
        ledger = Ledger(app)
        names = [f"K{i:03d}" for i in range(customers)]
        ledger.record(decide(names, EARLY))
        for i, name in enumerate(names):
            alerts = ledger.alert_ids(name)
            if i % 2 == 0:
                ledger.ack(alerts[0], "sup-ana")
            if i % 3 == 0:
                ledger.resolve(alerts[1], "sup-ben", "fixed")
            if i % 5 == 0:
                ledger.clear(name, "sup-ben", "settled")


@pytest.mark.parametrize("window", WINDOWS)
def test_a_relay_that_dies_anywhere_leaves_nothing_lost_or_doubled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window: str
) -> None:
    seed_store(tmp_path, customers=12)
    held, source = crash(tmp_path, window, monkeypatch, page=7)
    assert held, "the crash came before anything was published"
    if window in IN_FLIGHT_WINDOWS:
        with opened(tmp_path) as (app, _):
            before = {mid for _, mid, n in store_messages(app) if n < source}
        assert held - before, f"{window!r} should leave messages past the recorded position"
    finish(tmp_path, held, source)


def test_crashes_in_a_row_with_new_decisions_between_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_store(tmp_path, customers=10)
    for round_, window in enumerate(WINDOWS * 2):
        held, source = crash(tmp_path, window, monkeypatch, page=6)
        with opened(tmp_path) as (app, _):
            expected = store_messages(app)
            assert {mid for _, mid, n in expected if n < source} <= held
            assert held <= {mid for _, mid, _ in expected}
            Ledger(app).record(decide([f"N{round_:02d}-{i}" for i in range(3)], LATE))
    finish(tmp_path, held, source)


# --- the real broker: SIGKILL at random moments ----------------------------------------------

KILLS = 7
#: Kills that land while the relay starts (connects, reconciles); the others land while it
#: publishes, a random moment after its first page of this run was recorded.
STARTUP_KILLS = (2, 5)
SEED = 20261124
#: Small pages: many append → record windows per second, so kills land inside them.
PAGE = 25


def create_topics(bootstrap: str, partitions: dict[str, int]) -> None:
    """Create the topics beforehand, as ``kafka-init`` does in production (few partitions:
    a reconciling relay ends each partition with one empty poll)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="test-relay")
    try:
        admin.create_topics([NewTopic(name, n, 1) for name, n in partitions.items()])
    finally:
        admin.close()


def topic_ids(bootstrap: str, topics: dict[str, str]) -> Counter[tuple[str, str]]:
    """(topic, message id) of every record in both topics with its number of copies, read
    with a plain group-less consumer (no servicetrace code); a poll that returns nothing for a
    second is the end."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        fetch_max_wait_ms=100,
        max_poll_records=10_000,
    )
    names = {topic: key for key, topic in topics.items()}
    found = Counter[tuple[str, str]]()
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in names
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        assert len(partitions) == 5, partitions
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, 0)
        while batch := consumer.poll(timeout_ms=1000):
            for tp, records in batch.items():
                for record in records:
                    found[names[tp.topic], dict(record.headers)["event_id"].decode()] += 1
    finally:
        consumer.close()
    return found


class Workload:
    """New decisions and people's actions, recorded in the store while the relay runs."""

    def __init__(self, app: DecisionsApp, rng: random.Random) -> None:
        self.ledger = Ledger(app)
        self.rng = rng
        self.customers = 0

    def grow(self, customers: int) -> None:
        names = [f"W{i:05d}" for i in range(self.customers, self.customers + customers)]
        self.customers += customers
        self.ledger.record(decide(names, EARLY))

    def act(self, actions: int) -> None:
        rows = self.ledger.app.alerts()
        live = [r for r in rows if r.status in {"open", "acknowledged"}]
        for row in self.rng.sample(live, min(actions, len(live))):
            choice = self.rng.random()
            if row.status == "open" and choice < 0.5:
                self.ledger.ack(row.alert_id, "sup-ana")
            elif choice < 0.8:
                self.ledger.resolve(row.alert_id, "sup-ben", "done")
            else:
                self.ledger.dismiss(row.alert_id, "sup-cy", "no action needed")
        for _ in range(actions // 20):
            customer = f"W{self.rng.randrange(self.customers):05d}"
            risk = self.ledger.app.risk_of(customer)
            if risk is not None and risk.sensitive:
                self.ledger.clear(customer, "sup-ben", "settled")


@dataclass(frozen=True, slots=True)
class AfterKill:
    #: Next notification to publish, as recorded when this relay started and when it died.
    started: int
    source: int
    #: Last notification in the store at the kill.
    last: int
    #: Messages in the topics past the recorded source: what the next start must recover.
    in_flight: int

    @property
    def mid_publish(self) -> bool:
        """The relay had published part of this run's work, and work was left."""
        return self.started < self.source <= self.last


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return False


def relay_env(settings: Settings) -> dict[str, str]:
    """The environment of a ``servicetrace relay`` process configured like ``settings``."""
    return {
        **os.environ,
        "SERVICETRACE_HOME": str(settings.home),
        "SERVICETRACE_LOG": settings.log,
        "SERVICETRACE_KAFKA_BOOTSTRAP": settings.kafka_bootstrap or "",
        "SERVICETRACE_KAFKA_ALERTS_TOPIC": settings.kafka_alerts_topic,
        "SERVICETRACE_KAFKA_FLAGS_TOPIC": settings.kafka_flags_topic,
        "SERVICETRACE_DECISIONS": settings.decisions or "",
        "SERVICETRACE_RELAY_PAGE": str(settings.relay_page),
    }


RELAY = [sys.executable, "-m", "services", "relay"]


def kill_a_relay(
    env: dict[str, str], errors: Path, workload: Workload, source: Callable[[], int], startup: bool
) -> None:
    """Start ``relay --follow`` and SIGKILL it: during its start, or while it publishes (a
    random moment after it recorded its first page); the store grows meanwhile."""
    started = source()
    published = False
    with errors.open("wb") as stderr:
        process = subprocess.Popen(
            [*RELAY, "--follow"], env=env, stdout=subprocess.DEVNULL, stderr=stderr
        )
        try:
            spawned = time.monotonic()
            workload.act(30)
            if startup:
                pause = workload.rng.uniform(0.3, 1.8) - (time.monotonic() - spawned)
                time.sleep(max(0.0, pause))
            else:
                published = wait_for(lambda: source() > started, 30)
                time.sleep(workload.rng.uniform(0.0, 0.5))
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
    assert process.returncode == -signal.SIGKILL, errors.read_text()
    assert startup or published, f"the relay published nothing: {errors.read_text()}"


@pytest.mark.kafka
def test_relay_sigkilled_at_random_moments_publishes_each_message_exactly_once(
    kafka_bootstrap: str, kafka_topic_name: str, tmp_path: Path
) -> None:
    began = time.monotonic()
    topics = {ALERTS_TOPIC: f"{kafka_topic_name}.alerts", FLAGS_TOPIC: f"{kafka_topic_name}.flags"}
    create_topics(kafka_bootstrap, {topics[ALERTS_TOPIC]: 3, topics[FLAGS_TOPIC]: 2})
    store = tmp_path / "decisions.sqlite"
    settings = Settings(
        home=tmp_path / "home",
        log="kafka",
        kafka_bootstrap=kafka_bootstrap,
        kafka_alerts_topic=topics[ALERTS_TOPIC],
        kafka_flags_topic=topics[FLAGS_TOPIC],
        decisions=f"sqlite:///{store}",
        relay_page=PAGE,
    )
    env = relay_env(settings)
    # The relay's recorded positions (where ``servicetrace relay`` keeps them, see relay.py).
    platform = Platform(settings)
    positions = platform.decision_logs[ALERTS_TOPIC].positions
    app = DecisionsApp(f"sqlite:///{store}")

    def source() -> int:
        return positions.get("relay:source").get(0, 1)

    try:
        workload, outbox = Workload(app, random.Random(SEED)), Outbox(app)
        workload.grow(1000)
        workload.act(600)
        kills: list[AfterKill] = []
        while len(kills) < KILLS:
            started = source()
            startup = len(kills) in STARTUP_KILLS
            kill_a_relay(env, tmp_path / f"relay-{len(kills)}.err", workload, source, startup)
            kills.append(after_kill(kafka_bootstrap, topics, outbox, started, source()))
            workload.grow(40)
            workload.act(60)

        done = subprocess.run(
            [*RELAY, "--json"], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr
        final = json.loads(done.stdout)
        expected = Counter((topic, mid) for topic, mid, _ in outbox.update())
    finally:
        app.close()
        platform.close()

    found = topic_ids(kafka_bootstrap, topics)
    missing, doubled = expected - found, +(found - expected)
    assert not missing, f"{len(missing)} message(s) never published"
    assert not doubled, f"{len(doubled)} message(s) published twice or unexpected"
    assert found == expected
    # The last restart found exactly what the last kill left past the recorded position.
    assert final["recovered"] == kills[-1].in_flight
    assert sum(k.mid_publish for k in kills) >= KILLS - len(STARTUP_KILLS), kills
    # A restart that recorded a page skipped everything the kill before it left in flight
    # (those messages belong to the first page it publishes).
    recovered = final["recovered"] + sum(
        before.in_flight for before, after in pairwise(kills) if after.source > after.started
    )
    print(
        f"\nrelay kill test: {len(kills)} kills ({sum(k.mid_publish for k in kills)} mid-publish);"
        f" messages in flight at each kill {[k.in_flight for k in kills]}; {recovered} found "
        f"already published and skipped on restart; {sum(expected.values())} messages from "
        f"{kills[-1].last} notifications; {time.monotonic() - began:.1f}s"
    )


def after_kill(
    bootstrap: str, topics: dict[str, str], outbox: Outbox, started: int, source: int
) -> AfterKill:
    """The topics right after a kill: no duplicate, nothing missing before the recorded
    source position; how many messages lie past it."""
    expected = outbox.update()
    found = topic_ids(bootstrap, topics)
    assert max(found.values(), default=1) == 1, "a message was published twice"
    wanted = {(topic, mid): n for topic, mid, n in expected}
    assert set(found) <= set(wanted), "a message the store does not hold (or on the wrong topic)"
    before = {key for key, n in wanted.items() if n < source}
    assert before <= set(found), f"{len(before - set(found))} message(s) lost before {source}"
    last = expected[-1][2] if expected else 0
    return AfterKill(started, source, last, len(set(found) - before))


# --- the README's subscriber -----------------------------------------------------------------


def readme_subscriber(bootstrap: str, alerts_topic: str, flags_topic: str) -> list[Any]:
    """The subscriber of the README ("Subscribing to alerts and flags"), the same code: stock
    kafka-python and fastavro with the ``.avsc`` files, no servicetrace code. Only the broker,
    the topic names, the schema paths, ``consumer_timeout_ms`` (so the loop ends) and collecting
    instead of printing differ."""
    schemas = {
        alerts_topic: fastavro.parse_schema(json.loads((SCHEMAS / "alert.v1.avsc").read_text())),
        flags_topic: fastavro.parse_schema(json.loads((SCHEMAS / "flag.v1.avsc").read_text())),
    }
    consumer = KafkaConsumer(
        *schemas,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=3000,
    )
    received = []
    for message in consumer:
        magic, schema_id = message.value[0], int.from_bytes(message.value[1:5], "big")
        change = fastavro.schemaless_reader(io.BytesIO(message.value[5:]), schemas[message.topic])
        received.append((message.topic, message.key.decode(), magic, schema_id, change))
    consumer.close()
    return received


@pytest.mark.kafka
def test_a_subscriber_with_stock_tooling_decodes_what_the_relay_published(
    kafka_bootstrap: str, kafka_topic_name: str, tmp_path: Path
) -> None:
    topics = {ALERTS_TOPIC: f"{kafka_topic_name}.alerts", FLAGS_TOPIC: f"{kafka_topic_name}.flags"}
    create_topics(kafka_bootstrap, {topics[ALERTS_TOPIC]: 2, topics[FLAGS_TOPIC]: 2})
    settings = Settings(
        home=tmp_path / "home",
        log="kafka",
        kafka_bootstrap=kafka_bootstrap,
        kafka_alerts_topic=topics[ALERTS_TOPIC],
        kafka_flags_topic=topics[FLAGS_TOPIC],
        decisions=f"sqlite:///{tmp_path / 'decisions.sqlite'}",
    )
    with Platform(settings) as platform:
        ledger = Ledger(platform.decisions)
        ledger.record(decide(["S1", "S2", "S3"], EARLY))
        ledger.ack(ledger.alert_ids("S1")[0], "sup-ana")
        ledger.dismiss(ledger.alert_ids("S2")[1], "sup-ben", "duplicate")
        ledger.clear("S3", "sup-ben", "settled")
        stats = platform.relay.run_once()
    assert stats.published == {ALERTS_TOPIC: len(ledger.alerts), FLAGS_TOPIC: len(ledger.flags)}

    received = readme_subscriber(kafka_bootstrap, topics[ALERTS_TOPIC], topics[FLAGS_TOPIC])
    alerts = [r for r in received if r[0] == topics[ALERTS_TOPIC]]
    flags = [r for r in received if r[0] == topics[FLAGS_TOPIC]]
    assert {(r[2], r[3]) for r in alerts} == {(0, 2)}  # magic byte 0, schema id 2 (alert.v1)
    assert {(r[2], r[3]) for r in flags} == {(0, 3)}  # schema id 3 (flag.v1)
    assert all(key == change["customer_id"] for _, key, _, _, change in received)
    assert Counter(alert_tuple(r[4]) for r in alerts) == Counter(ledger.alerts)
    assert Counter(flag_tuple(r[4]) for r in flags) == Counter(ledger.flags)
    assert {r[4]["change"] for r in alerts} == {"raised", "acknowledged", "dismissed"}
