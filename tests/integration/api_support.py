"""A whole platform behind the HTTP API, for the ``test_api_*`` modules.

Real pieces throughout: the in-memory event log, SQLite-free memory stores for decisions,
audit and tokens, the session's chdb engine (a database of the module's own), and the real
ASGI app driven by ``fastapi.testclient.TestClient`` (in-process HTTP). The demo generator's
records are posted through ``POST /v1/touchpoints`` itself, then projected and decided the way
``servicetrace project`` does, so every read has something real to show.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import uvicorn
from clickhouse_connect.driver.client import Client
from fastapi import FastAPI
from fastapi.testclient import TestClient

from projections.clickhouse import ViewStore
from services.api import create_app
from services.generate import generate
from services.platform import Platform
from services.security import Role
from services.settings import Settings

__all__ = ["EXPORT_MOMENT", "World", "bearer", "ndjson", "project", "serving", "world"]

#: The clock of the app: exports and dead letters carry this moment.
EXPORT_MOMENT = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def ndjson(records: list[dict[str, Any]]) -> bytes:
    return b"\n".join(orjson.dumps(record) for record in records) + b"\n"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def project(platform: Platform) -> None:
    """What ``servicetrace project`` does: views, then decisions."""
    platform.projector.run_once()
    platform.risk_engine.run_once()


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` behind a real uvicorn server on a free 127.0.0.1 port, on a thread; yields the
    base URL (for what an in-process client cannot show: a live stream)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@dataclass
class World:
    platform: Platform
    client: TestClient
    secrets: dict[Role, str]
    names: dict[Role, str]
    records: list[dict[str, Any]] = field(default_factory=list)

    def as_(self, role: Role) -> dict[str, str]:
        return bearer(self.secrets[role])

    def get(self, role: Role, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, headers=self.as_(role), **kwargs)

    def post(self, role: Role, url: str, **kwargs: Any) -> Any:
        return self.client.post(url, headers=self.as_(role), **kwargs)

    def customer_with_alerts(self) -> str:
        rows = self.platform.decisions.alerts()
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.customer_id] = counts.get(row.customer_id, 0) + 1
        return max(sorted(counts), key=lambda c: counts[c])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, chdb_client: Client) -> Iterator[World]:
    home: Path = tmp_path_factory.mktemp("api-home")
    settings = Settings(
        home=home,
        log="memory",
        partitions=2,
        pepper="api-test-pepper-0123456789",
        projection_batch_size=500,
    )
    store = ViewStore(chdb_client, f"test_{uuid.uuid4().hex}")
    store.ensure()
    try:
        with Platform(settings) as platform:
            platform.__dict__["view_store"] = store
            app = create_app(platform, live=False, clock=lambda: EXPORT_MOMENT)
            secrets: dict[Role, str] = {}
            names: dict[Role, str] = {}
            for role in Role:
                issued = platform.tokens.create(f"{role.value}-one", [role.value])
                secrets[role], names[role] = issued.secret, issued.record.name
            records = list(generate(customers=25, days=30, seed=4))
            with TestClient(app) as client:
                posted = client.post(
                    "/v1/touchpoints",
                    content=ndjson(records),
                    headers={
                        **bearer(secrets[Role.INGEST]),
                        "Content-Type": "application/x-ndjson",
                    },
                )
                assert posted.status_code == 202, posted.text
                project(platform)
                yield World(platform, client, secrets, names, records)
    finally:
        store.drop()
