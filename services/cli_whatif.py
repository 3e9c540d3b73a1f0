"""The whatif commands, registered on the ``servicetrace`` group by :mod:`services.cli`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from services.moments import MOMENT

__all__ = ["register"]

#: Examples per category (appear / disappear / moved) a person is shown by default.
_EXAMPLES = 5


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(whatif)


def _ui() -> Any:
    from services import cli as ui  # the shared console and error handling

    return ui


@click.command()
@click.option(
    "--rules",
    "rules_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Candidate rules (TOML, [rules.<id>] tables, as rules.toml).",
)
@click.option(
    "--from",
    "start",
    type=MOMENT,
    default=None,
    help="Compare only decisions holding at or after this moment (ISO date/time, naive = UTC).",
)
@click.option(
    "--to", "end", type=MOMENT, default=None, help="... and before this moment (exclusive)."
)
@click.option(
    "--limit",
    type=click.IntRange(0),
    default=None,
    help=f"Examples per category and rule [default: {_EXAMPLES}; with --json: all].",
)
@click.option("--json", "as_json", is_flag=True, help="The whole diff as JSON.")
def whatif(
    rules_path: Path, start: int | None, end: int | None, limit: int | None, as_json: bool
) -> None:
    """What candidate rules would have decided, compared with the production decisions.

    The candidate rules run over every customer's whole history, at the stream time production
    reached, into a throwaway in-memory projection; nothing is written to the decision store,
    the positions, the alerts and flags logs or Kafka. Production is what the decision store
    holds: decisions applied and not withdrawn, agent warnings suppressed after a supervisor
    cleared a flag included.

    Per rule and action: APPEAR (the candidate decides it, production did not), DISAPPEAR,
    MOVED (same customer, rule, service type and action, at least one triggering touchpoint in
    common, another moment; shifts are in hours, positive = later), UNCHANGED (same moment).

    --from/--to choose which decisions are compared, by the event time they hold at
    ([from, to)); the rules still see the whole history before it. A move counts when either
    of its moments is in the window.

    Exit status 0 whatever the difference; 2 on a bad rules file.
    """
    from replay.whatif import Window
    from services.whatif import diff_json, risk_backlog, run_whatif

    if start is not None and end is not None and start >= end:
        raise click.BadParameter("--from must come before --to", param_hint="--from/--to")
    ui = _ui()
    with ui._platform() as platform:
        from projections.risk import load_rules

        candidate = load_rules(rules_path)
        journey = platform.journey_view
        if not int(journey.store.scalar(f"EXISTS TABLE {journey.table}") or 0):
            ui.err_console.print("nothing projected yet: run servicetrace project first")
            raise SystemExit(2)
        behind = risk_backlog(journey)
        diff = run_whatif(
            journey,
            platform.decisions,
            platform.rules,
            candidate,
            platform.projection_config,
            Window(start, end),
        )
    shown = limit if limit is not None or as_json else _EXAMPLES
    data = {"rules_file": str(rules_path), "risk_engine_behind": behind, **diff_json(diff, shown)}
    if as_json:
        ui._emit_json(data)
    else:
        _print(ui.console, data)
    if behind:
        ui.err_console.print(
            f"[yellow]warning:[/] the risk engine has {behind:,} projected record(s) to decide: "
            "production lacks their decisions (run servicetrace project)"
        )


# --- for people -------------------------------------------------------------------------------


def _when(iso: str | None) -> str:
    return (iso or "")[:16].replace("T", " ")


def _hours(value: float | None) -> str:
    return "" if value is None else f"{value:+.1f}"


def _print(console: Any, data: Mapping[str, Any]) -> None:
    from rich import box
    from rich.table import Table

    window = data["window"]
    span = f"{_when(window['from']) or 'the start'} to {_when(window['to']) or 'the end'}"
    console.print(
        f"[bold]what-if[/] {data['rules_file']} against the production decisions: "
        f"{data['customers']:,} customers, stream time {_when(data['stream_time'])} UTC, "
        f"decisions from {span}"
    )
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    table.add_column("rule / action", no_wrap=True)
    for heading in ("appear", "disappear", "moved", "unchanged", "median h", "max h"):
        table.add_column(heading, no_wrap=True, justify="right")
    for rule in data["rules"]:
        table.add_row(f"[bold]{rule['rule_id']}[/]", *([""] * 6))
        if not rule["actions"]:
            table.add_row("  (no decision either way)")
        for action in rule["actions"]:
            counts = action["counts"]
            table.add_row(
                f"  {action['action']}",
                *(_count(counts[k], k) for k in ("appear", "disappear", "moved", "unchanged")),
                _hours(action["median_shift_hours"]),
                _hours(action["max_shift_hours"]),
            )
    console.print(table)
    versions = [
        f"{rule['rule_id']} {_version(rule['production_version'])} → "
        f"{_version(rule['candidate_version'])}"
        for rule in data["rules"]
        if rule["production_version"] != rule["candidate_version"]
    ]
    if versions:
        console.print(f"versions: {', '.join(versions)}")
    for rule in data["rules"]:
        if rule["unresolved"]:
            console.print(
                f"{rule['rule_id']}: {rule['unresolved']} suppressed production decision(s) the "
                "production rules no longer make (rules edited since): not compared"
            )
        for action in rule["actions"]:
            _print_examples(console, rule["rule_id"], action)
    if not data["changed"]:
        console.print("no difference: the candidate rules take every decision at the same moment")


def _version(version: int | None) -> str:
    return "off" if version is None else f"v{version}"


def _count(value: int, kind: str) -> str:
    style = {"appear": "green", "disappear": "red", "moved": "yellow"}.get(kind)
    return f"[{style}]{value}[/]" if value and style else str(value)


def _print_examples(console: Any, rule_id: str, action: Mapping[str, Any]) -> None:
    """Up to the limit of each category, one row each: when production and the candidate
    decide it (— when one does not) and the triggering touchpoints, on an 80-column screen."""
    from rich import box
    from rich.table import Table

    rows = [
        *(("appear", o, None, o["at"]) for o in action["appear"]),
        *(("disappear", o, o["at"], None) for o in action["disappear"]),
        *(("moved", m["candidate"], m["before"], m["after"]) for m in action["moved"]),
    ]
    if not rows:
        return
    counts = action["counts"]
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title=(
            f"{rule_id} {action['action']}: examples of {counts['appear']} appear, "
            f"{counts['disappear']} disappear, {counts['moved']} moved"
        ),
        title_justify="left",
    )
    for heading in ("", "customer", "service"):
        table.add_column(heading, no_wrap=True)
    table.add_column("production → candidate (UTC) · triggers", ratio=1)
    for kind, occurrence, before, after in rows:
        moments = f"{_when(before) or '—'} → {_when(after) or '—'}"
        table.add_row(
            kind,
            occurrence["customer_id"],
            occurrence["service_type"],
            f"{moments}\n[dim]{_triggers(occurrence['triggers'])}[/]",
        )
    console.print(table)


def _triggers(ids: Sequence[str], shown: int = 3) -> str:
    text = " ".join(str(event_id)[:8] for event_id in ids[:shown])
    return f"{text} +{len(ids) - shown}" if len(ids) > shown else text
