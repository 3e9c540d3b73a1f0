"""The ``servicetrace`` command line.

Every command reads its configuration from the environment (see :mod:`services.settings`),
prints for a person by default and for a program with ``--json``, and exits non-zero only on a
fatal error: a rejected record is an outcome (counted, dead-lettered), not a failure.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import click
from rich.console import Console

from events.errors import ServicetraceError
from projections.projector import ProjectionStats
from services.moments import MOMENT
from services.platform import Platform
from services.reads import record_read
from services.settings import Settings
from services.views import projection_json, summary_json

__all__ = ["main"]

console = Console()
err_console = Console(stderr=True)
_AS_OF_HELP = "Only what was known at this moment: occurred and recorded by then (bitemporal)."


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@contextmanager
def _platform(settings: Settings | None = None) -> Iterator[Platform]:
    try:
        with Platform(settings) as platform:
            yield platform
    except ServicetraceError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="servicetrace")
def cli() -> None:
    """Every customer touchpoint in an immutable log, projected into journeys and audit views."""


@cli.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["ndjson", "csv"]),
    default=None,
    help="Input format (default: from the file extension).",
)
@click.option("--mapping", help="CSV mapping: nyc311, la311 or a TOML mapping file.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def ingest(path: Path, fmt: str | None, mapping: str | None, as_json: bool) -> None:
    """Append the touchpoints of PATH to the log; rejected records go to the dead-letter store."""
    from services.ingest.runner import ingest_file

    fmt = fmt or ("csv" if path.suffix.lower() == ".csv" else "ndjson")
    with _platform() as platform:
        summary = ingest_file(platform, path, fmt, mapping, show_progress=not as_json)
    if as_json:
        _emit_json(summary.to_json())
    else:
        from services.render import print_ingest_summary

        print_ingest_summary(console, summary.to_json())


@cli.command()
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def deadletter(limit: int, as_json: bool) -> None:
    """List rejected records with their reasons (payloads masked on screen)."""
    with _platform() as platform:
        letters = platform.deadletters.list(limit=limit)
        total = platform.deadletters.count()
    if as_json:
        _emit_json({"total": total, "letters": [letter.to_json() for letter in letters]})
    else:
        from services.render import print_deadletters

        print_deadletters(console, letters, total)


@cli.command()
@click.option("--customers", type=click.IntRange(1), default=200, show_default=True)
@click.option("--days", type=click.IntRange(1), default=30, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file (default: standard output).",
)
def generate(customers: int, days: int, seed: int, out: Path | None) -> None:
    """Stream realistic demo touchpoints (NDJSON) for a utility service line."""
    from services.generate import write_ndjson

    def write(stream: TextIO) -> int:
        return write_ndjson(stream, customers=customers, days=days, seed=seed)

    if out is None:
        write(sys.stdout)
        return
    with out.open("w", encoding="utf-8") as stream:
        count = write(stream)
    err_console.print(f"wrote {count:,} touchpoints to {out}")


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--follow", is_flag=True, help="Keep projecting new touchpoints until stopped.")
@click.option("--poll", type=float, default=0.5, show_default=True, help="Idle poll (seconds).")
@click.option(
    "--rebuild",
    is_flag=True,
    help="Project the whole log from position 0 into shadow views and swap them in "
    "(as `servicetrace rebuild --projection views`).",
)
def project(as_json: bool, follow: bool, poll: float, rebuild: bool) -> None:
    """Bring the views up to the end of the log (resumes from the tracked positions)."""
    settings = Settings().for_following() if follow else None
    with _platform(settings) as platform:
        stats = _rebuild_views(platform) if rebuild else ProjectionStats()
        if follow:
            stats = stats + _follow(platform, poll)
        elif not rebuild:
            stats = platform.projector.run_once()
        decided = _decide(platform)
    payload = {**projection_json(stats), **decided}
    if as_json:
        _emit_json(payload)
    else:
        console.print(
            f"projected {payload['events']:,} touchpoints in {payload['batches']} batches; "
            f"{payload['undecodable']} undecodable; positions {payload['positions']}; "
            f"{payload['decisions']:,} new decision(s), {payload['published']:,} published"
        )


def _rebuild_views(platform: Platform) -> ProjectionStats:
    from replay.rebuild import rebuild_views

    return rebuild_views(platform.projector, platform.views_in).stats


def _decide(platform: Platform) -> dict[str, Any]:
    """Run the risk engine over what the projector committed, then (in one-process modes)
    publish its decisions.

    With Kafka the relay is its own process (``servicetrace relay --follow``, one per
    deployment): two relays on one outbox would each publish every message.
    """
    risk = platform.risk_engine.run_once()
    published = 0
    if platform.settings.log != "kafka":
        published = sum(platform.relay.run_once().published.values())
    return {"decisions": len(risk.applied), "published": published}


def _follow(platform: Platform, poll: float) -> ProjectionStats:
    """Project until SIGTERM/SIGINT, touching ``$HOME/health/projector`` after every pass."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    beat = platform.settings.path("health", "projector")
    beat.parent.mkdir(parents=True, exist_ok=True)

    def heartbeat(stats: ProjectionStats) -> None:
        decided = _decide(platform)
        beat.touch()
        if stats.events or decided["decisions"]:
            err_console.print(
                f"projected {stats.events:,} touchpoints; {decided['decisions']:,} decision(s), "
                f"{decided['published']:,} message(s) published"
            )

    err_console.print("projecting new touchpoints; stop with Ctrl-C")
    return platform.projector.follow(stop, poll_interval=poll, heartbeat=heartbeat)


@cli.command()
@click.argument("customer")
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", type=int, default=None)
@click.option("--as-of", "as_of", type=MOMENT, default=None, help=_AS_OF_HELP)
@click.option("--by", default=None, help="Who reads (for the audit trail of reads).")
def journey(
    customer: str, as_json: bool, limit: int | None, as_of: int | None, by: str | None
) -> None:
    """CUSTOMER's timeline across channels (projects what is new first)."""
    from services.journeys import journey_json

    if as_of is not None:
        from services.cli_replay import journey_as_of_command

        return journey_as_of_command(customer, as_of, as_json, limit, by)
    with _platform() as platform:
        platform.projector.run_once()
        entries = platform.journey_view.timeline(customer, limit=limit)
        data = journey_json(customer, entries, platform.vault)
        if entries:
            record_read(platform, by, "journey", customer)
    if not entries:
        err_console.print(f"no touchpoints for customer {customer!r}")
        sys.exit(1)
    if as_json:
        _emit_json(data)
    else:
        from services.render import print_journey

        print_journey(console, data)


@cli.command()
@click.option("--json", "as_json", is_flag=True)
def summary(as_json: bool) -> None:
    """Touchpoints in the views by channel and kind."""
    with _platform() as platform:
        platform.projector.run_once()
        data = summary_json(platform.journey_view)
    if as_json:
        _emit_json(data)
    else:
        from services.render import print_summary

        print_summary(console, data)


@cli.command()
@click.option("--json", "as_json", is_flag=True)
def checksums(as_json: bool) -> None:
    """Fingerprints of every view and the projector's positions, without projecting.

    Two deployments (or a view before and after a rebuild) hold the same content exactly when
    their checksums are equal: each is computed in ClickHouse over the deduplicated rows.
    """
    with _platform() as platform:
        data = platform.view_checksums()
    if as_json:
        _emit_json(data)
    else:
        for name, value in data["views"].items():
            console.print(f"{name:<12} {value:>20}")
        console.print(f"positions    {data['positions']}")


@cli.command()
@click.argument("customer")
@click.option("--json", "as_json", is_flag=True)
@click.option("--by", default=None, help="Who reads (for the audit trail of reads).")
def scenes(customer: str, as_json: bool, by: str | None) -> None:
    """CUSTOMER's service scenes (episodes), oldest first."""
    from services.views import scene_json

    with _platform() as platform:
        platform.projector.run_once()
        data = [scene_json(row) for row in platform.scene_view.for_customer(customer)]
        if data:
            record_read(platform, by, "scenes", customer)
    if not data:
        err_console.print(f"no episodes for customer {customer!r}")
        sys.exit(1)
    if as_json:
        _emit_json({"customer_id": customer, "scenes": data})
    else:
        from services.render_views import print_scenes

        print_scenes(console, customer, data)


@cli.command()
@click.argument("episode_id")
@click.option("--json", "as_json", is_flag=True)
@click.option("--as-of", "as_of", type=MOMENT, default=None, help=_AS_OF_HELP)
@click.option("--by", default=None, help="Who reads (for the audit trail of reads).")
def scene(episode_id: str, as_json: bool, as_of: int | None, by: str | None) -> None:
    """One episode: its metrics, request/execution pairs and its touchpoints in order."""
    from services.journeys import touchpoints_json
    from services.views import scene_json

    if as_of is not None:
        from services.cli_replay import scene_as_of_command

        return scene_as_of_command(episode_id, as_of, as_json, by)
    with _platform() as platform:
        platform.projector.run_once()
        row = platform.scene_view.get(episode_id)
        if row is None:
            err_console.print(f"no episode {episode_id!r}")
            sys.exit(1)
        record_read(platform, by, "scene", row["customer_id"], episode_id=episode_id)
        data = scene_json(row)
        data["touchpoints_detail"] = touchpoints_json(
            platform.journey_view, platform.vault, row["customer_id"], row["event_ids"]
        )
    if as_json:
        _emit_json(data)
    else:
        from services.render_views import print_scene

        print_scene(console, data)


@cli.command()
@click.argument("customer")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(),
    default=None,
    help="Moment (UTC) of the recent-activity figures (default: latest event time).",
)
@click.option("--json", "as_json", is_flag=True)
def customer(customer: str, as_of: datetime | None, as_json: bool) -> None:
    """CUSTOMER's unified view: who (masked), behaviour by channel, satisfaction, open episodes."""
    from services.views import customer_json

    with _platform() as platform:
        platform.projector.run_once()
        moment = as_of.replace(tzinfo=UTC) if as_of is not None else None
        profile = platform.customer_view.get(customer, moment)
        if profile is None:
            err_console.print(f"no customer {customer!r}")
            sys.exit(1)
        data = customer_json(profile, platform.vault)
    if as_json:
        _emit_json(data)
    else:
        from services.render_views import print_customer

        print_customer(console, data)


@cli.command()
@click.option("--from", "since", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--to", "until", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--daily", is_flag=True, help="One row per channel and day (default: per channel).")
@click.option("--json", "as_json", is_flag=True)
def channels(since: datetime | None, until: datetime | None, daily: bool, as_json: bool) -> None:
    """Channel analytics: volume, handling, first-contact resolution, satisfaction and cost."""
    from services.views import jsonable

    start = since.date() if since else None
    end = until.date() if until else None
    with _platform() as platform:
        platform.projector.run_once()
        view = platform.channel_view
        rows = view.daily(start, end) if daily else view.totals(start, end)
    if as_json:
        _emit_json(
            {
                "from": jsonable(start),
                "to": jsonable(end),
                "daily": daily,
                "channels": jsonable(rows),
            }
        )
    else:
        from services.render_views import print_channels

        print_channels(console, rows, daily)


@cli.command()
@click.option("--from", "since", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--to", "until", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--rule", type=click.Choice(["dnd_window", "silence_real_time"]), default=None)
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def compliance(
    since: datetime | None, until: datetime | None, rule: str | None, limit: int, as_json: bool
) -> None:
    """Outbound contacts that broke the contact policy (do-not-disturb, long silence)."""
    from services.views import compliance_json

    period = {"since": since.date() if since else None, "until": until.date() if until else None}
    with _platform() as platform:
        platform.projector.run_once()
        view = platform.compliance_view
        data = compliance_json(view, view.list(rule=rule, limit=limit, **period), **period)
    if as_json:
        _emit_json(data)
    else:
        from services.render_views import print_compliance

        print_compliance(console, data)


@cli.command()
@click.option("--customers", type=click.IntRange(1), default=300, show_default=True)
@click.option("--days", type=click.IntRange(1), default=60, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
def demo(customers: int, days: int, seed: int) -> None:
    """Generate demo data, ingest it, project it and tell the story of one customer."""
    from services.demo import run_demo

    with _platform() as platform:
        run_demo(platform, console, customers=customers, days=days, seed=seed)


def _register_commands() -> None:
    """Commands kept in their own modules, one per capability."""
    from services import (
        cli_audit,
        cli_decisions,
        cli_export,
        cli_rebuild,
        cli_replay,
        cli_serve,
        cli_whatif,
    )

    for module in (cli_decisions, cli_rebuild, cli_replay, cli_whatif, cli_audit, cli_export):
        module.register(cli)
    cli_serve.register(cli)

    from services import cli_metrics

    cli_metrics.register(cli)

    from services import cli_erase

    cli_erase.register(cli)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    run: Callable[..., Any] = cli.main
    run(args=argv, prog_name="servicetrace")
