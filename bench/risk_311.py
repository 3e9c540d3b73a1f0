"""The risk rules over the real NYC and LA 311 exports: what fires, and how well NYC's repeats agree
with the requests the city closed as duplicates.

Prints one JSON document. Each city is ingested (CSV mapping -> intake -> Avro -> SQLite log),
projected by the projector into an embedded ClickHouse database, and every customer's facts are
read back from the journey view in event-time order and assessed with
:func:`projections.risk.assess` at the stream time the view reached:

* ``counts``: decisions per rule with the default rules (flag changes as ``rule.action``);
* ``nyc311.repeat_request``: for thresholds 3 (the default) and 2, precision and recall of the
  requests the ``repeat_request`` alerts call repeats against the requests whose resolution
  text in the raw export says they duplicate an earlier one (:mod:`projections.risk.evaluation`
  has the phrases and the definitions: ``alerted`` counts every trigger of an alert but the
  earliest, ``covered`` adds the requests the rule stays quiet about for one window after an
  alert, ``ceiling`` is every request with an earlier one from the same customer on the same
  service type within the window, the most a rule counting that way could find);
  ``labelling_agencies`` scores the same counting only requests of the agencies that close
  any request as a duplicate (NYPD, for one, never does).

Usage: ``python bench/risk_311.py [--data DIR] [--workdir DIR]`` (the data directory defaults
to ``/work/shared/data/real``, next to the repository).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# This directory holds bench/projections.py: keep it off the import path, or ``import
# projections`` would import that script instead of the package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

DEFAULT_DATA = _HERE.parents[1] / "shared" / "data" / "real"
FILES = {
    "nyc311": Path("nyc311") / "nyc311_2023-02-28_sample.csv",
    "la311": Path("la311") / "MyLA311_Service_Request_Data_2017_Subset.csv",
}
#: Later than every close date in both files, so recorded_at never precedes occurred_at.
FIXED_NOW = datetime(2024, 6, 1, tzinfo=UTC)
THRESHOLDS = (3, 2)


def project(name: str, path: Path, work: Path, client: Any) -> Any:
    """Ingest ``path`` with the built-in ``name`` mapping and project it; the city's store."""
    from events.deadletter.sqlite import SqliteDeadLetterStore
    from events.identity import IdentifierHasher
    from events.intake import Intake
    from events.keys.memory import MemoryKeyStore
    from events.log.sqlite import SqliteEventLog
    from events.personal import PersonalVault
    from projections.clickhouse import ViewStore
    from projections.projector import Projector
    from schemas.serde import TouchpointSerde
    from services.ingest.mapping import load_mapping
    from services.ingest.pipeline import IngestPipeline
    from services.ingest.submission import read_csv

    work.mkdir(parents=True, exist_ok=True)
    for stale in [*work.glob("log.sqlite*"), *work.glob("deadletter.sqlite*")]:
        stale.unlink()  # a rerun with the same --workdir starts from an empty log
    store = ViewStore(client, f"risk_311_{name}")
    store.drop()
    store.ensure()
    intake = Intake(IdentifierHasher(b"x" * 16), PersonalVault(MemoryKeyStore()), lambda: FIXED_NOW)
    dead = SqliteDeadLetterStore(work / "deadletter.sqlite")
    try:
        with SqliteEventLog(work / "log.sqlite", partitions=4) as log:
            pipeline = IngestPipeline(
                intake, TouchpointSerde(), log, dead, batch_size=2000, clock=lambda: FIXED_NOW
            )
            with path.open(encoding="utf-8", newline="") as handle:
                summary = pipeline.run(read_csv(handle, path.name, load_mapping(name)))
            if not summary.balanced:
                raise RuntimeError(f"{name}: ingest summary does not balance: {summary}")
            Projector(log, store).run_once()
    finally:
        dead.close()
    return store


def histories(store: Any) -> tuple[dict[str, list[Any]], int]:
    """Every customer's facts from the journey view, in event-time order, and the stream time
    the view reached (its latest ``recorded_at``)."""
    from projections.facts import in_event_time_order
    from projections.views import JourneyView

    journey = JourneyView(store)
    rows = store.rows(f"SELECT DISTINCT customer_id FROM {journey.table}")
    grouped: dict[str, list[Any]] = {}
    for fact in journey.facts_of(str(row[0]) for row in rows):
        grouped.setdefault(fact.customer_id, []).append(fact)
    ordered = {customer: in_event_time_order(grouped[customer]) for customer in sorted(grouped)}
    return ordered, journey.latest_recorded()


def decide(by_customer: dict[str, list[Any]], rules: Any, stream_time: int) -> list[Any]:
    """What ``rules`` decide on every customer's history by ``stream_time``."""
    from projections.policy import ProjectionConfig
    from projections.risk import assess

    config = ProjectionConfig()
    return [
        decision
        for history in by_customer.values()
        for decision in assess(history, rules, config, stream_time).decisions
    ]


def nyc_labels(path: Path) -> tuple[frozenset[str], frozenset[str]]:
    """From the raw NYC export: the requests whose resolution text says they duplicate an
    earlier one, and every request of an agency that closes at least one request so."""
    from events.identity import source_event_id
    from projections.risk.evaluation import duplicate_requests

    rows: list[tuple[str, str, str]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            request = source_event_id("nyc311", f"{row['Unique Key']}:request")
            rows.append((request, row["Agency"], row["Resolution Description"]))
    duplicates = duplicate_requests((request, text) for request, _, text in rows)
    agencies = {agency for request, agency, _ in rows if request in duplicates}
    return duplicates, frozenset(request for request, agency, _ in rows if agency in agencies)


def journey_duplicates(store: Any) -> frozenset[str]:
    """The requests whose closure in the journey view says they duplicate an earlier one."""
    from projections.risk.evaluation import duplicate_requests
    from projections.views import JourneyView

    table = JourneyView(store).table
    rows = store.rows(f"SELECT parent_event_id, text FROM {table} FINAL WHERE kind = 'case_closed'")
    return duplicate_requests((row[0], row[1]) for row in rows)


def nyc_scores(
    by_customer: dict[str, list[Any]], stream_time: int, store: Any, path: Path
) -> dict[str, Any]:
    """``repeat_request`` against the duplicates NYC labelled, at each of :data:`THRESHOLDS`."""
    from projections.risk import RuleSet
    from projections.risk.config import RepeatRequestRule
    from projections.risk.evaluation import DUPLICATE_PHRASES, repeat_scores

    facts = [fact for history in by_customer.values() for fact in history]
    requests = {f.event_id for f in facts if f.direction == "inbound"}
    labelled, labelling = nyc_labels(path)
    actual = labelled & requests
    result: dict[str, Any] = {
        "phrases": list(DUPLICATE_PHRASES),
        "requests": len(requests),
        "duplicates": len(actual),
        "duplicates_in_export": len(labelled),
        "duplicates_with_closure_text": len(journey_duplicates(store)),
        "requests_of_labelling_agencies": len(labelling & requests),
    }
    for threshold in THRESHOLDS:
        rule = RepeatRequestRule(threshold=threshold)
        decisions = decide(by_customer, RuleSet(repeat_request=rule), stream_time)
        alerts = [d for d in decisions if d.rule_id == "repeat_request"]
        everyone = repeat_scores(alerts, facts, rule, actual)
        agencies = repeat_scores(alerts, facts, rule, actual, labelling)
        result[f"threshold_{threshold}"] = {
            "alerts": len(alerts),
            **{name: found.as_dict() for name, found in everyone.items()},
            "labelling_agencies": {name: found.as_dict() for name, found in agencies.items()},
        }
    return result


def run(data: Path, work: Path) -> dict[str, Any]:
    from projections.clickhouse import connect
    from projections.risk import RuleSet
    from projections.risk.evaluation import rule_counts

    client = connect(None, work / "chdb")
    result: dict[str, Any] = {"data": str(data), "counts": {}}
    for name, relative in FILES.items():
        started = time.perf_counter()
        store = project(name, data / relative, work / name, client)
        try:
            by_customer, stream_time = histories(store)
            decisions = decide(by_customer, RuleSet(), stream_time)
            result["counts"][name] = {
                "touchpoints": sum(len(history) for history in by_customer.values()),
                "customers": len(by_customer),
                "decisions": rule_counts(decisions),
            }
            if name == "nyc311":
                result["nyc311"] = {
                    "repeat_request": nyc_scores(by_customer, stream_time, store, data / relative)
                }
        finally:
            store.drop()
        result["counts"][name]["seconds"] = round(time.perf_counter() - started, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the real-data directory")
    parser.add_argument("--workdir", type=Path, help="where logs and ClickHouse data go")
    args = parser.parse_args(argv)
    missing = [str(args.data / p) for p in FILES.values() if not (args.data / p).is_file()]
    if missing:
        parser.error(f"real 311 data missing: {', '.join(missing)}")
    if args.workdir is not None:
        result = run(args.data, args.workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="risk311-") as tmp:
            result = run(args.data, Path(tmp))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
