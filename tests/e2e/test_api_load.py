"""A bounded load test of ``POST /v1/touchpoints`` on a real ``servicetrace serve`` (issue 6,
item 5): concurrent NDJSON batches (valid, invalid and duplicates overlapping across threads)
and nothing is lost or counted twice.

8 threads x 20 requests, each batch drawn with a seeded generator from shared pools, so the
same record is posted by several threads at once. Every answer is 202 or 422; summed over all
answers submitted = accepted + duplicates + rejected; the log, read back, holds exactly the
distinct event ids the answers reported (each accepted once, whichever thread won); the
dead-letter store holds exactly the distinct letters of the rejected lines (it keeps one copy
of the same line at the same place from the same source). Throughput and p95 latency are
printed, bounded only generously: this machine is shared.
"""

from __future__ import annotations

import copy
import random
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from events.deadletter import letter_id
from services.generate import generate
from services.platform import Platform
from services.settings import Settings
from tests.e2e.test_cli import run
from tests.e2e.test_serve import ENV_PEPPER, Server, auth, start, stop

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

SEED = 20260504
THREADS = 8
REQUESTS = 20
TOKEN_NAME = "load-gw"


@dataclass(frozen=True)
class Answer:
    """One request as sent and answered."""

    lines: list[str]
    status: int
    body: dict[str, Any]
    seconds: float


def pools(seed: int) -> tuple[list[str], list[str]]:
    """Valid lines (the demo generator's) and invalid ones (broken fields, not JSON)."""
    records = list(generate(customers=30, days=20, seed=seed))[:240]
    rng = random.Random(seed)
    valid = [orjson.dumps(record).decode() for record in records]
    invalid = [_broken(copy.deepcopy(rng.choice(records)), n) for n in range(60)]
    return valid, invalid


def _broken(record: dict[str, Any], n: int) -> str:
    record["source"]["event_id"] = f"load-bad-{n}"
    match n % 5:
        case 0:
            del record["occurred_at"]
        case 1:
            record["channel"] = "carrier-pigeon"
        case 2:
            record.update(kind="feedback", direction="inbound", actor={"type": "customer"})
            record["score"] = 9
        case 3:
            record["wait_seconds"] = -5
        case _:
            return orjson.dumps(record).decode()[: 20 + n]  # cut short: not JSON
    return orjson.dumps(record).decode()


def batch(rng: random.Random, valid: list[str], invalid: list[str]) -> list[str]:
    """5-15 lines, about one in five invalid; pools are shared, so threads overlap."""
    size = rng.randint(5, 15)
    return [rng.choice(invalid) if rng.random() < 0.2 else rng.choice(valid) for _ in range(size)]


def hammer(url: str, token: str, seed: int, valid: list[str], invalid: list[str]) -> list[Answer]:
    rng = random.Random(seed)
    answers = []
    headers = {**auth(token), "Content-Type": "application/x-ndjson"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        for _ in range(REQUESTS):
            lines = batch(rng, valid, invalid)
            began = time.perf_counter()
            response = client.post("/v1/touchpoints", content="\n".join(lines).encode())
            seconds = time.perf_counter() - began
            answers.append(Answer(lines, response.status_code, response.json(), seconds))
    return answers


@dataclass(frozen=True)
class Served:
    server: Server
    home: Path
    token: str  # the ingest token every thread posts with


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("load-home")
    # The token first, with the CLI: serve then prints none (and needs no admin here).
    made = run(home, "token", "create", "--name", TOKEN_NAME, "--role", "ingest", "--json")
    token = orjson.loads(made.stdout)["token"]
    with pytest.MonkeyPatch.context() as env:
        # Only the API: the projector would compete with the requests for the two cores.
        env.setenv("SERVICETRACE_SERVE_PROJECTOR", "false")
        started = start(home)
    try:
        yield Served(started, home, token)
    finally:
        if started.process.poll() is None:
            stop(started)


def run_load(served: Served) -> tuple[list[Answer], float]:
    valid, invalid = pools(SEED)
    results: list[list[Answer]] = [[] for _ in range(THREADS)]

    def work(n: int) -> None:
        results[n] = hammer(served.server.url, served.token, SEED + n, valid, invalid)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    elapsed = time.perf_counter() - began
    answers = [answer for result in results for answer in result]
    assert len(answers) == THREADS * REQUESTS, "a thread failed; see its traceback above"
    return answers, elapsed


def logged_event_ids(home: Path) -> list[str]:
    settings = Settings(home=home, pepper=ENV_PEPPER)
    with Platform(settings) as platform:
        log = platform.log
        return [
            record.event_id
            for partition in range(settings.partitions)
            for record in log.read(partition, 0, 10**7)
        ]


def letter_ids(home: Path) -> set[str]:
    with Platform(Settings(home=home, pepper=ENV_PEPPER)) as platform:
        return {letter.letter_id for letter in platform.deadletters.list()}


def expected_letters(answers: list[Answer]) -> set[str]:
    """The letter of each rejected line: its source, its line number (index + 1: no blank
    lines are sent) and its text."""
    source = f"api:{TOKEN_NAME}"
    return {
        letter_id(source, error["index"] + 1, answer.lines[error["index"]].strip())
        for answer in answers
        for error in answer.body["errors"]
    }


def test_concurrent_batches_lose_nothing_and_count_nothing_twice(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    answers, elapsed = run_load(served)

    assert {a.status for a in answers} <= {202, 422}, {a.status for a in answers}
    for answer in answers:
        body = answer.body
        assert body["submitted"] == len(answer.lines)
        assert body["submitted"] == body["accepted"] + body["duplicates"] + body["rejected"]
        assert all(e["reasons"] and e["reason"] != "unexpected_error" for e in body["errors"])
    total = {k: sum(a.body[k] for a in answers) for k in ("submitted", "accepted", "duplicates")}
    rejected = sum(a.body["rejected"] for a in answers)
    assert total["submitted"] == total["accepted"] + total["duplicates"] + rejected
    assert rejected > 0 and total["duplicates"] > 0  # the load had all three kinds

    assert stop(served.server) == 0  # the log and the letters, read back with the server gone
    home = served.home
    reported = {event_id for a in answers for event_id in a.body["event_ids"]}
    logged = logged_event_ids(home)
    assert len(logged) == len(set(logged)) == total["accepted"]
    assert set(logged) == reported
    letters = expected_letters(answers)
    assert letter_ids(home) == letters
    assert len(letters) <= rejected

    latencies = sorted(a.seconds for a in answers)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    with capsys.disabled():
        print(
            f"\nload: {len(answers)} requests ({THREADS} threads), {total['submitted']} records "
            f"in {elapsed:.2f} s: {len(answers) / elapsed:.1f} req/s, "
            f"{total['submitted'] / elapsed:.0f} records/s, p95 {p95 * 1000:.0f} ms, "
            f"median {statistics.median(latencies) * 1000:.0f} ms; accepted {total['accepted']}, "
            f"duplicates {total['duplicates']}, rejected {rejected} ({len(letters)} letters)"
        )
    assert p95 < 10, f"p95 latency {p95:.2f} s"
