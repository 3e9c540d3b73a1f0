"""``GET /v1/alerts/stream``: alert changes as Server-Sent Events, live.

The source is the decisions' notification log (the outbox the relay publishes from): every
raise, acknowledgement, resolution, dismissal, withdrawal or reinstatement of an alert is a
notification there the moment it is recorded, on every backend, relay or not. Each event's
``id`` is its notification id, so a client that reconnects with ``Last-Event-ID`` misses
nothing; a new client starts at the log's end. The data is the change and the alert's row as
``GET /v1/alerts`` lists it (its status now, which may be past the change on a catch-up).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from eventsourcing.utils import get_topic
from starlette.concurrency import run_in_threadpool

from services.decisions import DecisionsApp
from services.decisions.domain import ALERT_CHANGES
from services.decisions.views import alert_row_json

__all__ = ["AlertChange", "alert_events", "changes_after", "log_end", "sse"]

_TOPICS = {get_topic(cls): change for cls, change in ALERT_CHANGES}
_PAGE = 500
#: Seconds between two looks at the notification log, and between keep-alive comments.
POLL = 0.25
KEEPALIVE = 15.0


@dataclass(frozen=True, slots=True)
class AlertChange:
    notification_id: int
    change: str
    alert: dict[str, Any]


def log_end(app: DecisionsApp) -> int:
    """The id of the last notification recorded (0: none yet)."""
    return app.recorder.max_notification_id() or 0


def changes_after(
    app: DecisionsApp, after: int, customer_id: str | None = None
) -> tuple[int, list[AlertChange]]:
    """The alert changes recorded after notification ``after`` (a page at most) and the last
    notification id read."""
    page = app.recorder.select_notifications(after + 1, _PAGE)
    wanted = [(n.id, _TOPICS[n.topic], str(n.originator_id)) for n in page if n.topic in _TOPICS]
    last = page[-1].id if page else after
    if not wanted:
        return last, []
    rows = {row.alert_id: row for row in app.alerts(customer_id=customer_id)}
    changes = [
        AlertChange(nid, change, alert_row_json(rows[key]))
        for nid, change, key in wanted
        if key in rows
    ]
    return last, changes


def sse(event: str, data: Any, event_id: int | None = None) -> bytes:
    """One Server-Sent Event."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"


async def alert_events(
    app: DecisionsApp,
    start: int | None,
    disconnected: Callable[[], Any],
    *,
    customer_id: str | None = None,
    limit: int | None = None,
    timeout: float | None = None,
) -> AsyncIterator[bytes]:
    """The stream: a ``ready`` event naming where it starts, then one ``alert`` event per
    change; ends when the client goes, after ``limit`` alert events or ``timeout`` seconds."""
    position = start if start is not None else await run_in_threadpool(log_end, app)
    yield b"retry: 2000\n\n" + sse("ready", {"after": position}, position)
    sent = 0
    began = last_write = time.monotonic()
    while limit is None or sent < limit:
        if await disconnected():
            return
        now = time.monotonic()
        if timeout is not None and now - began >= timeout:
            return
        read, changes = await run_in_threadpool(changes_after, app, position, customer_id)
        for change in _first(changes, None if limit is None else limit - sent):
            data = {"change": change.change, "alert": change.alert}
            yield sse("alert", data, change.notification_id)
            sent += 1
            last_write = now
        if read == position:  # nothing new: wait (a full page is followed at once)
            if now - last_write >= KEEPALIVE:
                yield b": keep-alive\n\n"
                last_write = now
            await asyncio.sleep(POLL)
        position = read


def _first(changes: Sequence[AlertChange], count: int | None) -> Sequence[AlertChange]:
    return changes if count is None else changes[:count]
