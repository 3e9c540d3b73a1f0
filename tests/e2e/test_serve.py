"""``servicetrace serve`` as an operator runs it: a real process on a free 127.0.0.1 port, the
embedded default, the live projector on its thread, talked to over HTTP."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.e2e.test_cli import run

pytestmark = pytest.mark.slow

ENV_PEPPER = "e2e-pepper-0123456789"


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    admin: str | None
    lines: list[str]


def start(home: Path) -> Server:
    """Start ``serve`` and read what it prints first: the URL, then (on a new home) the admin
    token. A thread reads the lines (select + readline on a buffered pipe can leave a second
    line unseen in the buffer); stderr goes to a file, so a chatty server never blocks on it."""
    env = {**os.environ, "SERVICETRACE_HOME": str(home), "SERVICETRACE_PEPPER": ENV_PEPPER}
    with (home / "serve.err").open("w") as errors:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "services", "serve", "--port", "0", "--poll", "0.2"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    assert process.stdout is not None
    printed: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, printed), daemon=True).start()
    lines: list[str] = []
    url = admin = None
    deadline = time.monotonic() + 90
    while url is None:
        assert time.monotonic() < deadline, f"serve printed no URL: {lines}"
        assert process.poll() is None, (home / "serve.err").read_text()
        try:
            lines.append(printed.get(timeout=1).strip())
        except queue.Empty:
            continue
        if found := re.search(r"on (http://[\d.]+:\d+)", lines[-1]):
            url = found.group(1)
    # The token line, when there is one, follows the URL at once.
    try:
        lines.append(printed.get(timeout=2).strip())
        if found := re.search(r"(st_[0-9a-f]{12}_\S+)", lines[-1]):
            admin = found.group(1)
    except queue.Empty:
        pass
    wait_healthy(url)
    return Server(process, url, admin, lines)


def _pump(stream: Any, into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)


def wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("serve never became healthy")


def stop(server: Server) -> int:
    server.process.send_signal(signal.SIGTERM)
    return server.process.wait(timeout=30)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("serve-home")
    run(
        home,
        "generate",
        "--customers",
        "30",
        "--days",
        "30",
        "--seed",
        "8",
        "--out",
        str(home / "in.ndjson"),
    )
    return home


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[Server]:
    started = start(home)
    try:
        yield started
    finally:
        if started.process.poll() is None:
            stop(started)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_first_start_prints_the_url_and_an_admin_token_once(server: Server) -> None:
    assert server.admin is not None, server.lines
    tokens = httpx.get(f"{server.url}/v1/tokens", headers=auth(server.admin)).json()
    assert [(t["name"], t["roles"]) for t in tokens] == [("admin", ["admin"])]
    assert httpx.get(f"{server.url}/v1/tokens").status_code == 401
    spec = httpx.get(f"{server.url}/openapi.json").json()
    assert "/v1/touchpoints" in spec["paths"]


def listen(url: str, token: str, found: queue.Queue[dict[str, Any]]) -> None:
    with httpx.stream("GET", url, headers=auth(token), timeout=60) as answer:
        for line in answer.iter_lines():
            if line.startswith("data: "):
                found.put(orjson.loads(line[6:]))


def test_posted_touchpoints_are_projected_live_and_alerts_stream_out(
    server: Server, home: Path
) -> None:
    assert server.admin is not None
    made = httpx.post(
        f"{server.url}/v1/tokens",
        json={"name": "channel-gw", "roles": ["ingest"]},
        headers=auth(server.admin),
    )
    ingest = made.json()["token"]
    made = httpx.post(
        f"{server.url}/v1/tokens",
        json={"name": "sup-1", "roles": ["supervisor"]},
        headers=auth(server.admin),
    )
    supervisor = made.json()["token"]

    events: queue.Queue[dict[str, Any]] = queue.Queue()
    stream = f"{server.url}/v1/alerts/stream?limit=1&timeout=60"
    threading.Thread(target=listen, args=(stream, supervisor, events), daemon=True).start()
    assert events.get(timeout=10).get("after") is not None, "the ready event"

    body = (home / "in.ndjson").read_bytes()
    posted = httpx.post(
        f"{server.url}/v1/touchpoints",
        content=body,
        headers={**auth(ingest), "Content-Type": "application/x-ndjson"},
        timeout=120,
    )
    assert posted.status_code == 202, posted.text
    summary = posted.json()
    assert summary["accepted"] == summary["submitted"] == body.count(b"\n")

    alert = events.get(timeout=60)
    assert alert["change"] == "raised" and alert["alert"]["status"] == "open"
    customer = alert["alert"]["customer_id"]
    deadline = time.monotonic() + 60
    journey = httpx.get(f"{server.url}/v1/customers/{customer}/journey", headers=auth(server.admin))
    while journey.status_code == 404 and time.monotonic() < deadline:
        time.sleep(0.3)
        journey = httpx.get(
            f"{server.url}/v1/customers/{customer}/journey", headers=auth(server.admin)
        )
    assert journey.status_code == 200 and journey.json()["touchpoints"]
    reads = httpx.get(f"{server.url}/v1/reads", headers=auth(server.admin)).json()
    assert reads[0]["by"] == "admin" and reads[0]["customer_id"] == customer


def test_token_commands_work_beside_a_running_server(server: Server, home: Path) -> None:
    listed = orjson.loads(run(home, "token", "list", "--json").stdout)
    assert "admin" in {row["name"] for row in listed}
    created = orjson.loads(
        run(home, "token", "create", "--name", "aud-1", "--role", "auditor", "--json").stdout
    )
    secret = created["token"]
    ok = httpx.get(f"{server.url}/v1/evaluations", headers=auth(secret))
    assert ok.status_code == 200
    run(home, "token", "revoke", created["token_id"])
    assert httpx.get(f"{server.url}/v1/evaluations", headers=auth(secret)).status_code == 401
    tokens_file = (home / "tokens.sqlite").read_bytes()
    assert (
        secret.encode() not in tokens_file and secret.split("_", 2)[2].encode() not in tokens_file
    )


def test_sigterm_stops_it_and_a_restart_prints_no_new_token(server: Server, home: Path) -> None:
    assert stop(server) == 0
    again = start(home)
    try:
        assert again.admin is None, again.lines
        assert not any("token" in line for line in again.lines)
        assert server.admin is not None
        tokens = httpx.get(f"{again.url}/v1/tokens", headers=auth(server.admin))
        assert tokens.status_code == 200
    finally:
        assert stop(again) == 0
