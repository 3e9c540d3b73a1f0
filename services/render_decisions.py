"""Rich renderings of alerts and flags for the terminal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["print_alert", "print_alert_message", "print_alerts", "print_risk"]

_SEVERITY = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


def _when(iso: str | None) -> str:
    return (iso or "")[:16].replace("T", " ")


#: Columns of the alert table: (heading, row key); the narrow terminal keeps the first set.
_ALERT_COLUMNS = (("alert", "alert_id"), ("rule", "rule_id"), ("customer", "customer_id"))
_WIDE_COLUMNS = (("status", "status"), ("severity", "severity"), ("service", "service_type"))
_WIDE = 120


def print_alerts(console: Console, rows: Sequence[Mapping[str, Any]]) -> None:
    """The board: identifying columns never wrap, the summary takes the rest of the width;
    on a terminal narrower than 120 columns status, severity and service are left out (the
    severity still colours the rule)."""
    wide = console.width >= _WIDE
    columns = _ALERT_COLUMNS + (_WIDE_COLUMNS if wide else ())
    table = Table(title=f"{len(rows)} alert(s)", title_justify="left")
    for heading, _ in columns:
        table.add_column(heading, no_wrap=True)
    table.add_column("at (UTC)", no_wrap=True)
    table.add_column("summary", ratio=1)
    for row in rows:
        style = _SEVERITY.get(row["severity"], "")
        cells = {**row, "alert_id": row["alert_id"][:8]}
        cells["rule_id"] = f"[{style}]{row['rule_id']}[/]"
        cells["severity"] = f"[{style}]{row['severity']}[/]"
        table.add_row(*(cells[key] for _, key in columns), _when(row["at"]), row["summary"])
    console.print(table)


def print_alert(console: Console, data: Mapping[str, Any]) -> None:
    style = _SEVERITY.get(data["severity"], "")
    console.print(
        f"[bold]alert {data['alert_id']}[/]  [{style}]{data['severity']}[/]  {data['status']}\n"
        f"rule {data['rule_id']} v{data['rule_version']} · customer {data['customer_id']} · "
        f"{data['service_type']} · at {_when(data['at'])} UTC\n{data['summary']}"
    )
    for reason in data["reasons"]:
        console.print(f"  · {reason}")
    table = Table(
        "occurred (UTC)",
        "channel",
        "direction",
        "kind",
        "service",
        "event",
        title="triggering touchpoints",
        title_justify="left",
    )
    shown = {tp["event_id"] for tp in data["touchpoints"]}
    for tp in data["touchpoints"]:
        table.add_row(
            _when(tp["occurred_at"]),
            tp["channel"],
            tp["direction"],
            tp["kind"],
            tp["service_type"],
            tp["event_id"],
        )
    for event_id in data["triggers"]:
        if event_id not in shown:
            table.add_row("?", "", "", "", "", f"{event_id} (not in the journey view yet)")
    console.print(table)
    for step in data["history"]:
        extra = step.get("note") or step.get("reason") or ""
        console.print(f"  {step['status']} by {step.get('by', '?')} {step.get('when', '')} {extra}")


def print_alert_message(console: Console, record: Mapping[str, Any]) -> None:
    """One message of the alerts stream, as ``alerts --follow`` prints it."""
    style = _SEVERITY.get(record["severity"], "")
    at = record["at"]
    stamp = at.isoformat()[:16].replace("T", " ") if hasattr(at, "isoformat") else str(at)
    actor = f" by {record['actor']}" if record.get("actor") else ""
    console.print(
        f"{record['change']:<12} [{style}]{record['severity']:<8}[/] {record['alert_id'][:8]} "
        f"{record['rule_id']:<16} {record['customer_id']} {stamp}{actor}: {record['summary']}"
    )


def print_risk(console: Console, data: Mapping[str, Any]) -> None:
    state = "[bold red]sensitive[/]" if data["sensitive"] else "not flagged"
    console.print(f"[bold]{data['customer_id']}[/]: {state}; {data['alerts']} alert(s)")
    for change in data["changes"]:
        withdrawn = " (withdrawn)" if change.get("withdrawn") else ""
        if change["action"] == "flag_cleared":
            console.print(f"  cleared by {change['by']} {change['when']}: {change['reason']}")
        else:
            console.print(
                f"  {change['action']:<13} {_when(change['at'])} {change['summary']}{withdrawn}"
            )
