"""Terminal rendering of the projection views: scenes, customers, channels, compliance.

Like :mod:`services.render`, functions take the plain data that ``--json`` prints, so the screen
and the machine output always tell the same story.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from services.render import CHANNEL_MARKERS, print_journey

__all__ = [
    "print_channels",
    "print_compliance",
    "print_customer",
    "print_scene",
    "print_scenes",
]


def _when(value: str | None) -> str:
    return "" if not value else value[:16].replace("T", " ")


def _hours(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds / 3600:.1f}h" if seconds >= 3600 else f"{seconds / 60:.0f}m"


def _fcr(value: bool | None) -> str:
    return {True: "[green]yes[/]", False: "[red]no[/]", None: "-"}[value]


def _path(channels: Sequence[str]) -> str:
    return " → ".join(f"{CHANNEL_MARKERS.get(c, '·')} {c}" for c in channels)


def print_scenes(console: Console, customer: str, scenes: Sequence[Mapping[str, Any]]) -> None:
    table = Table(title=f"{len(scenes)} service scenes of {customer}", title_justify="left")
    for column in (
        "started (UTC)",
        "service",
        "case",
        "path",
        "contacts",
        "status",
        "to resolve",
        "FCR",
        "CSAT",
        "unmatched",
        "episode",
    ):
        table.add_column(column)
    for s in scenes:
        table.add_row(
            _when(s["started_at"]),
            s["service_type"],
            s["case_id"] or "",
            _path(s["channel_path"]),
            str(s["contacts"]),
            s["status"],
            _hours(s["time_to_resolution_seconds"]),
            _fcr(s["first_contact_resolution"]),
            "" if s["satisfaction"] is None else f"{s['satisfaction']:.1f}",
            str(s["unmatched_promises"]) if s["unmatched_promises"] else "",
            s["episode_id"][:8],
        )
    console.print(table)
    console.print("[dim]servicetrace scene EPISODE_ID shows one scene (ids: --json)[/]")


def print_scene(console: Console, scene: Mapping[str, Any]) -> None:
    console.print(
        f"[bold]scene {scene['episode_id']}[/]  {scene['customer_id']}  "
        f"{scene['service_type']}  case {scene['case_id'] or '-'}\n"
        f"{_when(scene['started_at'])} → {_when(scene['ended_at'])} UTC   "
        f"status [bold]{scene['status']}[/]  outcome {scene['outcome'] or '-'}  "
        f"time to resolution {_hours(scene['time_to_resolution_seconds']) or '-'}  "
        f"FCR {_fcr(scene['first_contact_resolution'])}\n"
        f"{scene['touchpoints']} touchpoints, {scene['contacts']} contacts "
        f"({scene['inbound_contacts']} inbound), path {_path(scene['channel_path'])}, "
        f"{len(scene['handoffs'])} hand-offs, cost {scene['cost']:.2f}"
    )
    pairs = Table(
        "request / promise",
        "at",
        "answered by",
        "at",
        "status",
        title="request ↔ execution",
        title_justify="left",
    )
    for p in scene["pairings"]:
        style = "red" if p["status"] in ("open", "missed", "unanswered", "failed") else "green"
        pairs.add_row(
            p["kind"],
            _when(p["at"]),
            p["execution_kind"] or "-",
            _when(p["executed_at"]),
            f"[{style}]{p['status']}[/]",
        )
    if scene["pairings"]:
        console.print(pairs)
    if scene["unmatched"]:
        console.print(f"[bold red]{len(scene['unmatched'])} promise(s) never kept[/]")
    print_journey(
        console,
        {
            "customer": {"id": scene["customer_id"]},
            "touchpoints": scene["touchpoints_detail"],
            "channels": scene["channels"],
        },
    )


def print_customer(console: Console, data: Mapping[str, Any]) -> None:
    ids = "  ".join(f"{k} {v}" for k, v in data["identifiers"].items() if v)
    console.print(f"[bold]customer {data['customer_id']}[/]  {ids}")
    facts = Table(
        show_header=False, title=f"as of {_when(data['as_of'])} UTC", title_justify="left"
    )
    for label, key in (
        ("first / last contact", None),
        ("touchpoints (contacts)", None),
        ("preferred channel", "preferred_channel"),
        ("self-service share", None),
        ("average satisfaction", None),
        ("complaints (last 90 days)", None),
        ("recency (days)", "recency_days"),
        ("tenure (days)", "tenure_days"),
        ("contacts last 90 days", "contacts_last_90_days"),
    ):
        facts.add_row(label, _customer_cell(data, label, key))
    console.print(facts)
    channels = Table("channel", "contacts", title="contacts by channel", title_justify="left")
    for channel, count in sorted(data["by_channel"].items(), key=lambda kv: -kv[1]):
        channels.add_row(f"{CHANNEL_MARKERS.get(channel, '·')} {channel}", str(count))
    console.print(channels)
    if data["open_episodes"]:
        episodes = Table(
            "since",
            "service",
            "case",
            "touchpoints",
            "episode",
            title="open episodes",
            title_justify="left",
        )
        for e in data["open_episodes"]:
            episodes.add_row(
                _when(e["started_at"]),
                e["service_type"],
                e["case_id"] or "",
                str(e["touchpoints"]),
                e["episode_id"],
            )
        console.print(episodes)


def _customer_cell(data: Mapping[str, Any], label: str, key: str | None) -> str:
    if key is not None:
        value = data[key]
        return "-" if value is None else str(value)
    if label.startswith("first"):
        return f"{_when(data['first_contact_at'])} / {_when(data['last_contact_at'])}"
    if label.startswith("touchpoints"):
        return f"{data['touchpoints']} ({data['contacts']})"
    if label.startswith("self"):
        share = data["self_service_share"]
        return "-" if share is None else f"{share:.0%}"
    if label.startswith("average"):
        score = data["average_satisfaction"]
        return "-" if score is None else f"{score:.2f} of 5 ({data['feedback_count']} answers)"
    return f"{data['complaints']} ({data['complaints_last_90_days']})"


def print_channels(console: Console, rows: Sequence[Mapping[str, Any]], daily: bool) -> None:
    table = Table(title="channel analytics", title_justify="left")
    columns = ["day"] if daily else []
    columns += [
        "channel",
        "volume",
        "in",
        "out",
        "handled",
        "episodes",
        "FCR",
        "cost",
        "cost / resolved",
    ]
    if daily:
        columns[7:7] = ["wait", "handle", "CSAT"]
    for column in columns:
        table.add_column(column, justify="left" if column in ("day", "channel") else "right")
    for r in rows:
        cells = [str(r["day"])] if daily else []
        cells += [
            f"{CHANNEL_MARKERS.get(r['channel'], '·')} {r['channel']}",
            f"{r['volume']:,}",
            f"{r['inbound']:,}",
            f"{r['outbound']:,}",
            f"{r['handled']:,}",
            f"{r['episodes']:,}",
            "-" if r["fcr_rate"] is None else f"{r['fcr_rate']:.0%}",
            f"{r['cost']:,.0f}",
            "-"
            if r["cost_per_resolved_episode"] is None
            else f"{r['cost_per_resolved_episode']:,.2f}",
        ]
        if daily:
            cells[7:7] = [
                _hours(r["avg_wait_seconds"]),
                _hours(r["avg_handle_seconds"]),
                "-" if r["satisfaction"] is None else f"{r['satisfaction']:.1f}",
            ]
        table.add_row(*cells)
    console.print(table)


def print_compliance(console: Console, data: Mapping[str, Any]) -> None:
    for rule, per_channel in data["counts"].items():
        console.print(
            f"[bold]{rule}[/]: {sum(per_channel.values()):,} "
            f"({', '.join(f'{c} {n:,}' for c, n in per_channel.items())})"
        )
    table = Table(
        "local time",
        "customer",
        "channel",
        "kind",
        "rule",
        "why",
        "event",
        title="violations",
        title_justify="left",
    )
    for v in data["violations"]:
        table.add_row(
            v["local_time"],
            v["customer_id"],
            v["channel"],
            v["kind"],
            v["rule"],
            v["detail"],
            v["event_id"][:8],
        )
    console.print(table)
