"""``GET /v1/alerts/stream`` over real HTTP (uvicorn on 127.0.0.1): an alert raised after the
client connected arrives as a Server-Sent Event; a client resuming with ``Last-Event-ID``
gets what it missed."""

from __future__ import annotations

import queue
import threading
import uuid
from typing import Any

import httpx
import orjson

from services.security import Role
from tests.integration.api_support import World, bearer, ndjson, project, serving, world

__all__ = ["world"]


def repeated_requests(customer: str) -> list[dict[str, Any]]:
    """Three billing inquiries in three hours: the repeat-request rule's threshold."""
    return [
        {
            "source": {"system": "stream-test", "event_id": f"{customer}-{hour}"},
            "customer": {"id": customer, "name": "Stream Tester"},
            "occurred_at": f"2026-02-03T1{hour}:00:00+08:00",
            "recorded_at": f"2026-02-03T1{hour}:00:05+08:00",
            "channel": "phone",
            "direction": "inbound",
            "actor": {"type": "customer"},
            "kind": "inquiry",
            "service_type": "billing",
            "text": "Why is my bill so high?",
        }
        for hour in range(3)
    ]


def parse(lines: list[str]) -> dict[str, Any]:
    event: dict[str, Any] = {}
    for line in lines:
        name, _, value = line.partition(": ")
        event[name] = orjson.loads(value) if name == "data" else value
    return event


def listen(url: str, headers: dict[str, str], events: queue.Queue[dict[str, Any]]) -> None:
    """Read the stream, putting each event on ``events`` (ends when the server ends it)."""
    with httpx.stream("GET", url, headers=headers, timeout=30) as answer:
        events.put({"status": answer.status_code, "type": answer.headers["content-type"]})
        block: list[str] = []
        for line in answer.iter_lines():
            if line:
                if not line.startswith((":", "retry:")):
                    block.append(line)
            elif block:
                events.put(parse(block))
                block = []


def test_an_alert_raised_after_connecting_arrives_live_and_on_resume(world: World) -> None:
    customer = f"S{uuid.uuid4().hex[:7].upper()}"
    supervisor = bearer(world.secrets[Role.SUPERVISOR])
    with serving(world.client.app) as base:  # type: ignore[arg-type]
        events: queue.Queue[dict[str, Any]] = queue.Queue()
        url = f"{base}/v1/alerts/stream?customer={customer}&limit=1&timeout=30"
        reader = threading.Thread(target=listen, args=(url, supervisor, events), daemon=True)
        reader.start()
        head = events.get(timeout=10)
        assert head["status"] == 200 and head["type"].startswith("text/event-stream")
        ready = events.get(timeout=10)
        assert ready["event"] == "ready"
        start = ready["data"]["after"]

        posted = httpx.post(
            f"{base}/v1/touchpoints",
            content=ndjson(repeated_requests(customer)),
            headers={**world.as_(Role.INGEST), "Content-Type": "application/x-ndjson"},
        )
        assert posted.status_code == 202 and posted.json()["accepted"] == 3
        project(world.platform)

        alert = events.get(timeout=15)
        assert alert["event"] == "alert", alert
        assert alert["data"]["change"] == "raised"
        assert alert["data"]["alert"]["customer_id"] == customer
        assert alert["data"]["alert"]["rule_id"] == "repeat_request"
        assert int(alert["id"]) > start
        reader.join(10)
        assert not reader.is_alive(), "limit=1 ends the stream after the alert"

        missed: queue.Queue[dict[str, Any]] = queue.Queue()
        resume = {**supervisor, "Last-Event-ID": str(start)}
        listen(f"{base}/v1/alerts/stream?customer={customer}&limit=1&timeout=10", resume, missed)
        missed.get()
        assert missed.get()["event"] == "ready"
        again = missed.get()
        assert again["id"] == alert["id"]
        assert again["data"]["alert"]["alert_id"] == alert["data"]["alert"]["alert_id"]


def test_the_stream_needs_a_role_that_reads_alerts(world: World) -> None:
    with serving(world.client.app) as base:  # type: ignore[arg-type]
        agent = httpx.get(f"{base}/v1/alerts/stream?timeout=1", headers=world.as_(Role.AGENT))
        nobody = httpx.get(f"{base}/v1/alerts/stream?timeout=1")
    assert agent.status_code == 403 and nobody.status_code == 401
