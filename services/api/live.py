"""The live pipeline inside the API process: projector, risk engine and relay on one thread.

The embedded ClickHouse engine (chdb) opens a data directory in one process only, so on the
embedded default the projector cannot be a process of its own beside the API: it follows the
log on a thread of the server, sharing the platform with the request handlers (the projector
holds ``projector.lock`` during a pass; the stores it shares are thread-safe). After every
pass the risk engine decides on what was committed and, except with Kafka (where the relay is
its own process, one per deployment), the relay publishes the decisions: the same steps as
``servicetrace project --follow``.

A failed pass is logged and retried after a pause instead of ending the thread: the projector
resumes from its committed positions, so a retry is always safe. ``/health`` reports the
thread's state.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from projections.projector import ProjectionStats
from services.platform import Platform

__all__ = ["LivePipeline", "PipelineState"]

logger = logging.getLogger(__name__)

#: Seconds to wait after a failed pass before trying again.
RETRY_AFTER = 2.0


@dataclass(frozen=True, slots=True)
class PipelineState:
    running: bool
    passes: int
    touchpoints: int
    decisions: int
    published: int
    failures: int
    last_error: str | None
    seconds_since_pass: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "passes": self.passes,
            "touchpoints": self.touchpoints,
            "decisions": self.decisions,
            "published": self.published,
            "failures": self.failures,
            "last_error": self.last_error,
            "seconds_since_pass": None
            if self.seconds_since_pass is None
            else round(self.seconds_since_pass, 3),
        }


class LivePipeline:
    """Follows the log on a daemon thread until :meth:`stop` (see the module doc)."""

    def __init__(self, platform: Platform, poll: float = 0.5) -> None:
        self._platform = platform
        self._poll = poll
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="servicetrace-live", daemon=True)
        self._passes = self._touchpoints = self._decisions = self._published = 0
        self._failures = 0
        self._last_error: str | None = None
        self._last_pass: float | None = None
        self._beat = platform.settings.path("health", "projector")

    def start(self) -> None:
        self._beat.parent.mkdir(parents=True, exist_ok=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def state(self) -> PipelineState:
        since = None if self._last_pass is None else time.monotonic() - self._last_pass
        return PipelineState(
            running=self._thread.is_alive(),
            passes=self._passes,
            touchpoints=self._touchpoints,
            decisions=self._decisions,
            published=self._published,
            failures=self._failures,
            last_error=self._last_error,
            seconds_since_pass=since,
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._platform.projector.follow(
                    self._stop, poll_interval=self._poll, heartbeat=self._after_pass
                )
            except Exception as exc:  # a failed pass must not end the live pipeline
                self._failures += 1
                self._last_error = f"{type(exc).__name__}: {exc}"
                logger.exception("live pipeline pass failed; retrying in %.0f s", RETRY_AFTER)
                self._stop.wait(RETRY_AFTER)

    def _after_pass(self, stats: ProjectionStats) -> None:
        platform = self._platform
        decided = platform.risk_engine.run_once()
        published = 0
        if platform.settings.log != "kafka":
            published = sum(platform.relay.run_once().published.values())
        self._passes += 1
        self._touchpoints += stats.events
        self._decisions += len(decided.applied)
        self._published += published
        self._last_pass = time.monotonic()
        self._last_error = None
        self._beat.touch()
