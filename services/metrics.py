"""Prometheus metrics: ingest rate, how far each stage lags the log, alerts and dead letters.

Served by the API as ``GET /metrics`` and printed by ``servicetrace metrics``. Everything but
the ingest counter is computed **on scrape** from the stores every process already shares
(log ends, positions tables in ClickHouse, the decisions' outbox): a projector in another
container is measured as well as one in this process, and there is no background thread whose
figures could go stale. Each reading is cheap (see :mod:`services.metrics_readings`).

Ingest is the one thing only the process doing it sees, so it is a counter incremented by the
ingest pipeline (:func:`record_ingest`); Prometheus derives the rate with ``rate()``.

A private :class:`~prometheus_client.CollectorRegistry` per scrape keeps these metrics out of
the client library's global registry (and its process/GC collectors, which would double in a
test run with several platforms). A source that fails (ClickHouse or Kafka unreachable) does
not fail the scrape: its metrics are left out and ``servicetrace_metrics_source_up`` says 0.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Protocol

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from services.metrics_readings import dead_letter_count, log_ends, relay_backlog

if TYPE_CHECKING:
    from services.platform import Platform

__all__ = ["INGESTED", "IngestOutcome", "PlatformCollector", "metrics_text", "record_ingest"]

logger = logging.getLogger(__name__)

#: Submissions through this process's ingest pipeline, by outcome (the pipeline's own balance:
#: submitted = accepted + duplicate + rejected). Not in any registry until a scrape adds it.
INGESTED = Counter(
    "servicetrace_touchpoints_ingested",
    "Submissions through this process's ingest pipeline, by outcome "
    "(use rate() for the ingest rate).",
    ["outcome"],
    registry=None,
)
_OUTCOMES = ("accepted", "duplicate", "rejected")
for _outcome in _OUTCOMES:
    INGESTED.labels(outcome=_outcome)  # present at 0 before the first ingest


class IngestOutcome(Protocol):
    """What an ingest reports: a file ingest's :class:`~services.ingest.pipeline.IngestSummary`
    and the API's per-request outcome both have these counts."""

    @property
    def accepted(self) -> int: ...
    @property
    def duplicates(self) -> int: ...
    @property
    def rejected(self) -> int: ...


def record_ingest(summary: IngestOutcome) -> None:
    """Count one ingest's outcomes: called after every pipeline run (:func:`services.ingest.
    runner.pipeline_for`) and every ``POST /v1/touchpoints``."""
    counts = (summary.accepted, summary.duplicates, summary.rejected)
    for outcome, count in zip(_OUTCOMES, counts, strict=True):
        if count:
            INGESTED.labels(outcome=outcome).inc(count)


def metrics_text(platform: Platform) -> tuple[bytes, str]:
    """The Prometheus text exposition of ``platform`` and its content type."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(INGESTED)
    registry.register(PlatformCollector(platform))
    return generate_latest(registry), CONTENT_TYPE_LATEST


def _gauge(name: str, documentation: str, labels: Iterable[str] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"servicetrace_{name}", documentation, labels=list(labels))


def _per_partition(name: str, documentation: str, values: Mapping[int, int]) -> Metric:
    gauge = _gauge(name, documentation, ["partition"])
    for partition, value in sorted(values.items()):
        gauge.add_metric([str(partition)], value)
    return gauge


def _lag(ends: Mapping[int, int], committed: Mapping[int, int]) -> dict[int, int]:
    """Records written but not yet consumed, per partition (never negative: the end may be
    read a moment before a consumer commits past it)."""
    return {p: max(0, end - committed.get(p, 0)) for p, end in ends.items()}


class PlatformCollector(Collector):
    """Computes the platform's gauges on every scrape (see the module doc)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._ends: dict[int, int] | None = None
        self._projected: dict[int, int] | None = None

    def describe(self) -> Iterable[Metric]:
        return []  # computed on scrape only: registering must not touch the stores

    def collect(self) -> Iterator[Metric]:
        self._ends = self._projected = None
        sources: list[tuple[str, Callable[[], list[Metric]]]] = [
            ("projector", self._projector),  # committed first: lag then never undercounts
            ("log", self._log),
            ("risk_engine", self._risk_engine),
            ("relay", self._relay),
            ("journey", self._journey),
            ("alerts", self._alerts),
            ("dead_letters", self._dead_letters),
        ]
        up = _gauge("metrics_source_up", "1 when the source answered this scrape.", ["source"])
        for source, read in sources:
            try:
                metrics = read()
            except Exception as exc:  # a scrape reports a broken source, it does not fail
                logger.warning("metrics: %s unavailable: %s", source, type(exc).__name__)
                up.add_metric([source], 0)
                continue
            up.add_metric([source], 1)
            yield from metrics
        yield from self._lags()
        yield up

    def _projector(self) -> list[Metric]:
        projector = self.platform.projector
        self._projected = projector.committed()
        generation = _gauge("projector_generation", "Times the views were rebuilt and swapped in.")
        generation.add_metric([], projector.generation())
        committed = _per_partition(
            "projector_committed_position",
            "Next log position the projector will read (everything before is in the views).",
            self._projected,
        )
        return [committed, generation]

    def _log(self) -> list[Metric]:
        self._ends = log_ends(self.platform.log)
        touchpoints = _per_partition(
            "log_touchpoints",
            "Touchpoints in the log per partition (its end position).",
            self._ends,
        )
        return [touchpoints]

    def _lags(self) -> list[Metric]:
        """Projector lag, from the two readings above (only when both answered)."""
        if self._ends is None or self._projected is None:
            return []
        lag = _lag(self._ends, self._projected)
        return [
            _per_partition(
                "projector_lag",
                "Touchpoints appended to the log but not yet projected, per partition.",
                lag,
            )
        ]

    def _risk_engine(self) -> list[Metric]:
        engine = self.platform.risk_engine
        upstream = self.platform.projector.committed()
        mine = engine.positions.get(engine.name)
        partitions = range(self.platform.log.partitions)
        upstream = {p: upstream.get(p, 0) for p in partitions}
        return [
            _per_partition(
                "risk_engine_committed_position",
                "Next projected position the risk engine will assess.",
                {p: mine.get(p, 0) for p in partitions},
            ),
            _per_partition(
                "risk_engine_lag",
                "Projected touchpoints the risk engine has not assessed yet, per partition.",
                _lag(upstream, mine),
            ),
        ]

    def _relay(self) -> list[Metric]:
        backlog = relay_backlog(self.platform)
        outbox = _gauge("outbox_notifications", "Last notification id in the decisions' outbox.")
        outbox.add_metric([], backlog.outbox)
        if backlog.unpublished is None:  # not visible from this process (see relay_backlog)
            return [outbox]
        lag = _gauge(
            "relay_lag",
            "Outbox notifications (alert and flag changes) not yet published to their topics.",
        )
        lag.add_metric([], backlog.unpublished)
        return [outbox, lag]

    def _journey(self) -> list[Metric]:
        journey = self.platform.journey_view
        # count() without FINAL: answered from part metadata, no scan. A batch re-delivered
        # after a crash counts twice until ClickHouse merges the parts.
        rows = journey.store.scalar(f"SELECT count() FROM {journey.table}")
        gauge = _gauge("journey_touchpoints", "Rows in the journey view (before merges).")
        gauge.add_metric([], int(rows or 0))
        return [gauge]

    def _alerts(self) -> list[Metric]:
        from services.decisions.domain import ALERT_STATUSES

        counts: dict[tuple[str, str], int] = {}
        for row in self.platform.decisions.alerts():
            key = (row.status, row.rule_id)
            counts[key] = counts.get(key, 0) + 1
        gauge = _gauge("alerts", "Alerts by current status and rule.", ["status", "rule"])
        # Every status of a rule that ever alerted, zeros included: a dashboard's "open"
        # series then drops to 0 instead of vanishing when the last one is resolved.
        for rule in sorted({rule for _, rule in counts}):
            for status in ALERT_STATUSES:
                gauge.add_metric([status, rule], counts.get((status, rule), 0))
        return [gauge]

    def _dead_letters(self) -> list[Metric]:
        gauge = _gauge("dead_letters", "Rejected records kept in the dead-letter store.")
        gauge.add_metric([], dead_letter_count(self.platform.deadletters))
        return [gauge]
