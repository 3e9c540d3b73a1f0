"""Projection throughput: 100k touchpoints from the embedded SQLite log into the journey view.

Prints the rate (run with ``-s``). The floor is deliberately low: these 2-core machines are
shared, and the test guards against regressions of an order of magnitude, not against noise.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from events.log import Entry
from events.log.sqlite import SqliteEventLog
from events.touchpoint import Identifiers, SealedPersonal
from projections.clickhouse import ViewStore
from projections.projector import Projector
from projections.views.journey_view import JourneyView
from schemas.serde import TouchpointSerde
from tests.factories import make_touchpoint

N = 100_000
KINDS = [
    ("complaint", "phone"),
    ("case_opened", "web"),
    ("callback", "phone"),
    ("inquiry", "app"),
    ("notification_sent", "sms"),
]


def fill(log: SqliteEventLog, serde: TouchpointSerde) -> None:
    for start in range(0, N, 10_000):
        entries = []
        for i in range(start, start + 10_000):
            tp = make_touchpoint(
                f"C{i % 5000}",
                *KINDS[i % len(KINDS)],
                minutes=i,
                case_id=f"CASE-{i // 7}",
                wait_seconds=3.5,
                text="the power is out again",
                attributes={"queue": "q1"},
                identifiers=Identifiers(phone="ab" * 32),
                personal=SealedPersonal(key_id="k1", nonce=b"n" * 12, ciphertext=b"c" * 48),
            )
            entries.append(Entry(str(tp.event_id), tp.customer_id, serde.encode(tp)))
        log.append(entries)


@pytest.mark.slow
def test_projection_throughput(view_store: ViewStore, tmp_path: Path) -> None:
    serde = TouchpointSerde()
    with SqliteEventLog(tmp_path / "log.sqlite", partitions=4) as log:
        fill(log, serde)
        projector = Projector(log, serde, [JourneyView(view_store)], view_store, batch_size=10_000)

        started = time.perf_counter()
        stats = projector.run_once()
        elapsed = time.perf_counter() - started

    rate = stats.events / elapsed
    print(f"\nprojected {stats.events} touchpoints in {elapsed:.2f}s: {rate:,.0f} events/s")
    assert stats.events == N == JourneyView(view_store).count()
    assert rate > 5_000
