"""``make run``: the whole path on the embedded default, told as a story.

Generate a utility service line's touchpoints → ingest them into the embedded log (validated,
sealed, Avro, idempotent) → project them into the ClickHouse journey view → show what came in
by channel and kind, the journey and service scenes of the customer with the richest story,
the channel table and the contact-policy violations. Running it again
shows idempotency: every record is recognised as a duplicate and nothing is added.
"""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.panel import Panel

from projections.facts import HOUR_US, in_event_time_order
from services.asof import Sources, journey_as_of
from services.decisions.views import alert_row_json
from services.generate import write_ndjson
from services.ingest.runner import ingest_file
from services.journeys import journey_json
from services.platform import Platform
from services.render import print_ingest_summary, print_journey, print_summary
from services.render_decisions import print_alerts
from services.render_views import print_channels, print_compliance, print_scenes
from services.views import compliance_json, projection_json, scene_json, summary_json

__all__ = ["run_demo"]

_NEXT_STEPS = (
    """\
[bold]servicetrace journey {customer}[/]         the same timeline (add --json for programs)
[bold]servicetrace scenes {customer}[/]          its service scenes ([bold]scene ID[/] for one)
[bold]servicetrace customer {customer}[/]        the unified customer view (masked)
[bold]servicetrace channels --daily[/]             channel analytics per day
[bold]servicetrace compliance[/]                   every do-not-disturb violation
[bold]servicetrace alerts --status open[/]         the supervisors' board
[bold]servicetrace alert ID[/]                     one alert, its rule and triggering touchpoints
[bold]servicetrace ack ID --by NAME[/]             then [bold]resolve[/] or [bold]dismiss[/] it
[bold]servicetrace risk {customer}[/]            the customer's sensitive flag
[bold]servicetrace alerts --follow[/]              alert changes live, as they are published
[bold]servicetrace journey {customer} --as-of T[/]  what was known at T (late arrivals apart)
[bold]servicetrace replay {customer}[/]          step through it (n / b / j / q)
[bold]servicetrace evaluate EPISODE --answers A.toml --by NAME[/]   score a scene (SERVQUAL)
[bold]servicetrace export {customer} --out e.zip[/]   signed evidence; [bold]verify e.zip[/]
[bold]servicetrace whatif --rules candidate.toml[/]  what other rules would have decided
[bold]servicetrace rebuild[/]                      replay the log into shadow views, swap them in
[bold]servicetrace reads[/]                        who read which journey, and when
[bold]servicetrace summary[/]                      touchpoints by channel and kind
[bold]servicetrace ingest ../shared/data/real/nyc311/nyc311_2023-02-28_sample.csv"""
    """ --mapping nyc311[/]
[bold]servicetrace deadletter[/]                   what was rejected and why (personal data masked)
[bold]servicetrace generate --customers 2000 --days 90 --out big.ndjson[/]   more data
[bold]make run[/] again                            nothing is added: every record is a duplicate
[bold]make test[/]                                 the contract, integration and real-data tests
[bold]servicetrace serve[/]                        the HTTP API + live projector on :8000 (/docs);
                                           the first start prints an admin token, once

(the commands live in .venv/bin; data in {home})"""
)


def run_demo(platform: Platform, console: Console, customers: int, days: int, seed: int) -> str:
    """Run the demo; returns the id of the customer whose journey it told."""
    home = platform.settings.home
    path = platform.settings.path("demo.ndjson")
    console.rule("[bold]1 · generate")
    with path.open("w", encoding="utf-8") as out:
        count = write_ndjson(out, customers=customers, days=days, seed=seed)
    console.print(f"{count:,} touchpoints of {customers} customers over {days} days → {path}")

    console.rule("[bold]2 · ingest into the embedded log")
    print_ingest_summary(console, ingest_file(platform, path, "ndjson", None).to_json())

    console.rule("[bold]3 · project into the views (ClickHouse)")
    stats = projection_json(platform.projector.run_once())
    console.print(f"projected {stats['events']:,} new touchpoints; positions {stats['positions']}")
    print_summary(console, summary_json(platform.journey_view))

    console.rule("[bold]4 · one customer's journey across channels")
    customer = platform.journey_view.story_customer()
    entries = platform.journey_view.timeline(customer)
    print_journey(console, journey_json(customer, entries, platform.vault))

    console.rule("[bold]5 · the same customer's service scenes")
    print_scenes(
        console, customer, [scene_json(row) for row in platform.scene_view.for_customer(customer)]
    )

    console.rule("[bold]6 · channels, first-contact resolution and cost")
    print_channels(console, platform.channel_view.totals(), daily=False)
    totals = platform.scene_view.totals()
    console.print(
        f"{totals['episodes']:,} episodes, {totals['resolved']:,} resolved, first-contact "
        f"resolution {totals['fcr_rate'] or 0:.0%}, {totals['unmatched_promises']:,} promises "
        "never kept"
    )

    console.rule("[bold]7 · contact-policy compliance")
    view = platform.compliance_view
    print_compliance(console, compliance_json(view, view.list(limit=5)))

    console.rule("[bold]8 · risk: alerts for supervisors, warnings for agents")
    _show_risk(platform, console)

    console.rule("[bold]9 · replay: what was known, and what the agent saw")
    _show_as_of(platform, console, customer)

    console.print(Panel(_NEXT_STEPS.format(customer=customer, home=home), title="try next"))
    return customer


def _telling_moment(platform: Platform, customer: str) -> int:
    """A moment worth asking about: halfway through the customer's latest late arrival (it
    had happened, nobody knew yet), else the customer's last touchpoint."""
    facts = in_event_time_order(platform.journey_view.facts_of([customer]))
    late = [f for f in facts if f.recorded - f.occurred > HOUR_US]
    if late:
        return (late[-1].occurred + late[-1].recorded) // 2
    return facts[-1].recorded


def _show_as_of(platform: Platform, console: Console, customer: str) -> None:
    moment = _telling_moment(platform, customer)
    data = journey_as_of(Sources.of(platform), customer, moment)
    if data is None:
        return
    late = data["late_arrivals"]
    console.print(
        f"as of {data['as_of']}: {len(data['known']['touchpoints'])} touchpoints known, "
        f"{len(late)} that had happened but were recorded later (late arrivals, not known then)"
    )
    for tp in late[:3]:
        console.print(
            f"  late: {tp['kind']} via {tp['channel']} occurred {tp['occurred_at']}, "
            f"recorded {tp['recorded_after_as_of_hours']} h after that moment"
        )
    risk = data["risk"]
    flags = ", ".join(f"{f['service_type']} since {f['since']}" for f in risk["sensitive"])
    console.print(f"sensitive flag in force: {flags or 'none'}")
    shown = risk["agent_warnings"]["shown_at_latest_contact"]
    console.print(
        f"warning shown to the agent at the latest contact: {shown['summary'] if shown else 'none'}"
    )


def _show_risk(platform: Platform, console: Console) -> None:
    """Decide on what was projected, publish it, and show the board a supervisor opens."""
    decided = platform.risk_engine.run_once()
    relayed = platform.relay.run_once()
    console.print(
        f"{len(decided.applied):,} new decisions by rules "
        f"{', '.join(f'{k} v{v}' for k, v in platform.rules.versions().items())}; "
        f"{sum(relayed.published.values()):,} messages published to the alerts and flags streams"
    )
    rows = platform.decisions.alerts(status="open")
    counts = Counter(row.rule_id for row in rows)
    console.print("open alerts: " + ", ".join(f"{rule} {n:,}" for rule, n in counts.most_common()))
    shown = [next(row for row in rows if row.rule_id == rule) for rule in counts]
    print_alerts(console, [alert_row_json(row) for row in shown])
