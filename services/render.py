"""What a person sees on a terminal: rich tables for summaries, dead letters and journeys.

Rendering only: every function takes plain data (the same dicts ``--json`` prints) so that the
screen and the machine output can never tell different stories.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from events.deadletter import DeadLetter
from services.redact import redact

__all__ = [
    "CHANNEL_MARKERS",
    "print_deadletters",
    "print_ingest_summary",
    "print_journey",
    "print_summary",
]

#: One glyph per channel so a timeline shows channel hopping at a glance.
CHANNEL_MARKERS: Mapping[str, str] = {
    "phone": "☎",
    "ivr": "⌨",
    "counter": "🏢",
    "web": "🌐",
    "app": "📱",
    "social": "💬",
    "sms": "✉",
    "email": "📧",
    "chat": "🗨",
    "field": "🔧",
    "video": "🎥",
    "letter": "📨",
    "other": "·",
}
_DIRECTION = {"inbound": "→", "outbound": "←", "internal": "↔"}


def print_ingest_summary(console: Console, summary: Mapping[str, Any]) -> None:
    table = Table(title="ingest", show_header=False, title_justify="left")
    for label in ("submitted", "accepted", "duplicates", "rejected"):
        table.add_row(label, f"{summary[label]:,}")
    table.add_row("touchpoints appended", f"{summary['touchpoints']['appended']:,}")
    table.add_row("rate", f"{summary['submissions_per_second']:,.0f} records/s")
    console.print(table)
    reasons = summary["rejected_by_reason"]
    if reasons:
        why = Table("rejected because", "records", title_justify="left")
        for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
            why.add_row(reason, f"{count:,}")
        console.print(why)
        console.print("  see them with [bold]servicetrace deadletter[/]")


def print_deadletters(console: Console, letters: Sequence[DeadLetter], total: int) -> None:
    table = Table(
        "source:line",
        "reason",
        "why",
        "payload (masked)",
        title=f"{total:,} dead letters",
        title_justify="left",
    )
    for letter in letters:
        why = "; ".join(str(e) for e in letter.errors) or letter.reason
        table.add_row(
            f"{letter.source}:{letter.line}",
            letter.reason,
            redact(why),
            redact(letter.payload)[:120],
        )
    console.print(table)


def print_summary(console: Console, data: Mapping[str, Any]) -> None:
    console.print(
        f"[bold]{data['touchpoints']:,}[/] touchpoints of "
        f"[bold]{data['customers']:,}[/] customers in the journey view"
    )
    for dimension in ("channel", "kind"):
        counts: Mapping[str, int] = data[f"by_{dimension}"]
        table = Table(dimension, "touchpoints", "share", title_justify="left")
        total = sum(counts.values()) or 1
        for name, count in sorted(counts.items(), key=lambda kv: -kv[1]):
            label = f"{CHANNEL_MARKERS.get(name, '')} {name}".strip()
            table.add_row(label, f"{count:,}", f"{count / total:.1%}")
        console.print(table)


def print_journey(console: Console, journey: Mapping[str, Any]) -> None:
    """A customer's timeline across channels, from :func:`services.journeys.journey_json`."""
    who = journey["customer"]
    named = "  ".join(v for k, v in who.items() if k != "id" and v)
    console.print(
        f"[bold]journey of {who['id']}[/]  {named}\n"
        f"{len(journey['touchpoints'])} touchpoints across {', '.join(journey['channels'])}"
    )
    table = Table(expand=True)
    table.add_column("when", no_wrap=True)
    table.add_column("channel", no_wrap=True)
    table.add_column("what happened", min_width=24, ratio=1)
    table.add_column("who", no_wrap=True)
    table.add_column("said or done", ratio=1)
    for tp in journey["touchpoints"]:
        table.add_row(*_journey_cells(tp))
    console.print(table)


def _journey_cells(tp: Mapping[str, Any]) -> list[str | Text]:
    channel = tp["channel"]
    marker = f"{CHANNEL_MARKERS.get(channel, '·')} {_DIRECTION[tp['direction']]} {channel}"
    late = f"\n[dim]+{tp['late_hours']}h late[/]" if tp.get("late_hours") else ""
    when = tp["occurred_at_local"] + late
    style = "bold red" if tp["kind"] in _ALARMING else "bold"
    what = Text(tp["kind"], style=style).append(f" {tp['service_type']}", style="cyan")
    for extra in _facts(tp):
        what.append(f" {extra}", style="dim")
    return [when, marker, what, tp["actor"], tp.get("words") or ""]


_ALARMING = frozenset({"complaint", "appointment_missed", "case_escalated", "case_reopened"})


def _facts(tp: Mapping[str, Any]) -> list[str]:
    facts = []
    if tp.get("score") is not None:
        facts.append("★" * tp["score"] + "☆" * (5 - tp["score"]))
    if tp.get("outcome"):
        facts.append(f"→ {tp['outcome']}")
    timing = "/".join(_seconds(tp.get(k)) for k in ("wait_seconds", "handle_seconds"))
    if timing.strip("/"):
        facts.append(f"({timing.strip('/')})")
    if tp.get("case_id"):
        facts.append(f"#{tp['case_id']}")
    return facts


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value / 60:.0f}m" if value >= 120 else f"{value:.0f}s"
