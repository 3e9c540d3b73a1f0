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
    console.print(
        f"[bold]journey of {who['id']}[/]  {who.get('name') or ''}  {who.get('phone') or ''}  "
        f"· {len(journey['touchpoints'])} touchpoints, channels: {', '.join(journey['channels'])}"
    )
    table = Table(
        "when (local)",
        "",
        "kind",
        "service",
        "actor",
        "case",
        "outcome",
        "wait/handle",
        "what was said or done",
        expand=True,
        show_lines=False,
    )
    for tp in journey["touchpoints"]:
        table.add_row(*_journey_cells(tp))
    console.print(table)


def _journey_cells(tp: Mapping[str, Any]) -> list[str | Text]:
    marker = (
        f"{CHANNEL_MARKERS.get(tp['channel'], '·')} {_DIRECTION[tp['direction']]} {tp['channel']}"
    )
    late = " [late]" if tp.get("late_hours") else ""
    outcome = tp.get("outcome") or ""
    if tp.get("score") is not None:
        outcome = f"{'★' * tp['score']}{'☆' * (5 - tp['score'])}"
    timing = "/".join(_seconds(tp.get(k)) for k in ("wait_seconds", "handle_seconds")).strip("/")
    style = "bold red" if tp["kind"] in {"complaint", "appointment_missed"} else ""
    return [
        tp["occurred_at_local"] + late,
        marker,
        Text(tp["kind"], style=style),
        tp["service_type"],
        tp["actor"],
        tp.get("case_id") or "",
        outcome,
        timing,
        tp.get("words") or "",
    ]


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value / 60:.0f}m" if value >= 120 else f"{value:.0f}s"
