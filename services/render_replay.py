"""Terminal rendering of as-of reconstructions and replay steps.

Like :mod:`services.render`, every function takes the plain data ``--json`` prints, so the
screen and the machine output tell the same story.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from services.render import CHANNEL_MARKERS, print_journey
from services.render_views import print_scene, print_scenes

__all__ = ["print_asof_journey", "print_asof_scene", "print_risk_state", "print_step"]

_SEVERITY = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


def _when(iso: str | None) -> str:
    return (iso or "")[:16].replace("T", " ")


def _decision_line(d: Mapping[str, Any]) -> str:
    style = _SEVERITY.get(d["severity"], "")
    production = d.get("production")
    status = ""
    if production:
        status = (
            f"  [dim]status at T {production['status_at_as_of']}, now {production['status_now']}[/]"
        )
    return (
        f"[{style}]{d['rule_id']}[/] v{d['rule_version']} {_when(d['at'])} "
        f"{d['summary']}  [dim]{d['decision_id'][:8]} · {len(d['triggers'])} trigger(s)[/]{status}"
    )


def print_late(console: Console, late: Sequence[Mapping[str, Any]]) -> None:
    if not late:
        return
    table = Table(
        "occurred (UTC)",
        "recorded (UTC)",
        "late by",
        "kind",
        "service",
        "event",
        title=f"{len(late)} late arrival(s): NOT KNOWN at the as-of moment",
        title_justify="left",
        title_style="bold yellow",
    )
    for tp in late:
        table.add_row(
            _when(tp["occurred_at"]),
            _when(tp["recorded_at"]),
            f"{tp['late_by_hours']:.1f}h",
            tp["kind"],
            tp["service_type"],
            tp["event_id"][:8],
        )
    console.print(table)


def print_risk_state(console: Console, risk: Mapping[str, Any]) -> None:
    """Flags in force, alerts raised and what the agent saw, at the as-of moment."""
    console.print(f"[bold]risk as known at {_when(risk['stream_time'])} UTC[/]")
    if not risk["sensitive"]:
        console.print("  not flagged sensitive")
    for flag in risk["sensitive"]:
        console.print(
            f"  [bold red]sensitive[/] on {flag['service_type']} since {_when(flag['since'])} "
            f"(decision {flag['raised_by'][:8]}, {len(flag['renewed_by'])} renewal(s), "
            f"lapses {_when(flag['expires_at'])}): {flag['summary']}"
        )
    warnings = risk["agent_warnings"]
    latest = warnings["latest_contact"]
    if latest is not None:
        shown = warnings["shown_at_latest_contact"]
        seen = "no warning" if shown is None else f"warning: {shown['summary']}"
        console.print(
            f"  latest contact {_when(latest['occurred_at'])} {latest['channel']} "
            f"{latest['kind']}: the agent saw {seen}"
        )
    console.print(
        f"  {len(risk['alerts'])} alert(s) and {len(warnings['issued'])} agent warning(s) "
        "raised by then"
    )
    for alert in risk["alerts"]:
        console.print(f"  · {_decision_line(alert)}")
    console.print(f"[dim]{risk['production_note']}[/]")


def print_asof_journey(console: Console, data: Mapping[str, Any]) -> None:
    console.print(f"[bold]as of {_when(data['as_of'])} UTC[/]: what was known then")
    print_journey(console, data["known"])
    print_late(console, data["late_arrivals"])
    print_scenes(console, data["customer"]["id"], data["scenes"])
    print_risk_state(console, data["risk"])


def print_asof_scene(console: Console, data: Mapping[str, Any]) -> None:
    console.print(
        f"[bold]episode {data['episode_id']} as of {_when(data['as_of'])} UTC[/]\n{data['note']}"
    )
    for scene in data["scenes"]:
        print_scene(console, scene)
    print_late(console, data["late_arrivals"])
    print_risk_state(console, data["risk"])


def print_step(console: Console, step: Mapping[str, Any]) -> None:
    """One replay step: where we are, the touchpoint, its episode, the risk state."""
    tp = step["touchpoint"]
    marker = CHANNEL_MARKERS.get(tp["channel"], "·")
    console.rule(f"step {step['step']} of {step['of']}  ·  {_when(step['at'])} UTC")
    console.print(
        f"{marker} {tp['channel']} {tp['direction']} [bold]{tp['kind']}[/] "
        f"{tp['service_type']}  by {tp['actor']}  [dim]{tp['event_id'][:8]}[/]"
    )
    late = step["late"]
    if late is not None:
        when = f"step {late['known_at_step']}" if late["known_at_step"] else "after the last step"
        console.print(
            f"[bold yellow]late arrival[/]: recorded {late['late_by_hours']:.1f}h after it "
            f"occurred ({_when(late['recorded_at'])} UTC); known from {when}"
        )
    e = step["episode"]
    fcr = {True: "yes", False: "no", None: "-"}[e["first_contact_resolution"]]
    csat = "-" if e["satisfaction"] is None else f"{e['satisfaction']:.1f}"
    pairs = ", ".join(f"{p['kind']}→{p['status']}" for p in e["pairings"]) or "-"
    console.print(
        f"episode {e['episode_id'][:8]} {e['service_type']} case {e['case_id'] or '-'}: "
        f"[bold]{e['status']}[/], {e['touchpoints']} touchpoint(s), "
        f"channels {' → '.join(e['channel_path'])}, FCR {fcr}, CSAT {csat}\n"
        f"  pairing: {pairs}"
    )
    risk = step["risk"]
    flags = ", ".join(f"{f['service_type']} since {_when(f['since'])}" for f in risk["sensitive"])
    console.print(
        f"sensitive: {flags or 'no'} · alerts so far {risk['alerts_so_far']} "
        f"{risk['alerts_by_rule'] or ''} · warnings so far {risk['warnings_so_far']}"
    )
    warning = risk["warning_at_this_contact"]
    if warning is not None:
        console.print(f"[bold cyan]agent warned at this contact[/]: {warning['summary']}")
    for decision in risk["new_decisions"]:
        console.print(f"  [bold]new[/] {decision['action']} · {_decision_line(decision)}")
