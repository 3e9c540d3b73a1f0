"""The decision commands: alerts, one alert with its provenance, the alert workflow, flags,
and the relay. Registered on the ``servicetrace`` group by :mod:`services.cli`."""

from __future__ import annotations

import signal
import threading
from typing import Any

import click

from events.log import EventLog
from services.decisions.application import AlertNotFound
from services.decisions.domain import ALERT_STATUSES, InvalidTransition
from services.decisions.messages import ALERTS_TOPIC, MessageSerdes
from services.decisions.views import alert_json, alert_row_json, risk_json
from services.journeys import touchpoints_json
from services.platform import Platform
from services.render_decisions import print_alert, print_alert_message, print_alerts, print_risk

__all__ = ["register"]


def register(cli: click.Group) -> None:
    for command in (alerts, alert, ack, resolve, dismiss, risk, clear, relay):
        cli.add_command(command)


def _ui() -> Any:
    from services import cli as ui  # the shared console and error handling

    return ui


@click.command()
@click.option("--status", type=click.Choice(ALERT_STATUSES), default=None)
@click.option("--customer", default=None, help="Only this customer's alerts.")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--follow", is_flag=True, help="Stream alert messages live from the alerts topic/log."
)
def alerts(
    status: str | None, customer: str | None, limit: int, as_json: bool, follow: bool
) -> None:
    """List alerts, newest first (or stream them with --follow)."""
    ui = _ui()
    with ui._platform() as platform:
        if follow:
            _follow_alerts(platform, as_json)
            return
        rows = [alert_row_json(r) for r in platform.decisions.alerts(status, customer)][:limit]
    if as_json:
        ui._emit_json(rows)
    else:
        print_alerts(ui.console, rows)


def _follow_alerts(platform: Platform, as_json: bool) -> None:
    """Print each message published on the alerts stream from now on, until interrupted."""
    ui = _ui()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    log: EventLog = platform.decision_logs[ALERTS_TOPIC]
    serdes = MessageSerdes()
    positions = {p: _end(log, p) for p in range(log.partitions)}
    ui.err_console.print("streaming alerts as they are published; stop with Ctrl-C")
    while not stop.is_set():
        seen = 0
        for partition in range(log.partitions):
            for record in log.read(partition, positions[partition], 500):
                positions[partition] = record.position + 1
                message = serdes.decode(ALERTS_TOPIC, record.value)
                seen += 1
                if as_json:
                    ui._emit_json(message)
                else:
                    print_alert_message(ui.console, message)
        if not seen:
            stop.wait(0.2)


def _end(log: EventLog, partition: int) -> int:
    end = 0
    for record in log.read_all(partition, 0):
        end = record.position + 1
    return end


@click.command()
@click.argument("alert_id")
@click.option("--json", "as_json", is_flag=True)
def alert(alert_id: str, as_json: bool) -> None:
    """One alert: its rule, reasons, workflow and the touchpoints that triggered it."""
    ui = _ui()
    with ui._platform() as platform:
        found = _get(platform, alert_id)
        touchpoints = touchpoints_json(
            platform.journey_view, platform.vault, found.customer_id, found.triggers
        )
        data = alert_json(found, touchpoints)
    if as_json:
        ui._emit_json(data)
    else:
        print_alert(ui.console, data)


def _get(platform: Platform, alert_id: str) -> Any:
    try:
        return platform.decisions.alert(alert_id)
    except AlertNotFound as exc:
        _fail(str(exc))


def _fail(message: str) -> Any:
    _ui().err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise SystemExit(2)


def _act(action: str, alert_id: str, **kwargs: str) -> None:
    ui = _ui()
    with ui._platform() as platform:
        try:
            changed = getattr(platform.decisions, action)(alert_id, **kwargs)
        except (AlertNotFound, InvalidTransition) as exc:
            _fail(str(exc))
    ui.console.print(f"alert {changed.id} is now {changed.status}")


@click.command()
@click.argument("alert_id")
@click.option("--by", required=True, help="Who acknowledges it.")
def ack(alert_id: str, by: str) -> None:
    """Acknowledge an open alert."""
    _act("acknowledge", alert_id, by=by)


@click.command()
@click.argument("alert_id")
@click.option("--by", required=True)
@click.option("--note", required=True, help="What was done.")
def resolve(alert_id: str, by: str, note: str) -> None:
    """Resolve an open or acknowledged alert."""
    _act("resolve", alert_id, by=by, note=note)


@click.command()
@click.argument("alert_id")
@click.option("--by", required=True)
@click.option("--reason", required=True, help="Why it needs no action.")
def dismiss(alert_id: str, by: str, reason: str) -> None:
    """Dismiss an open or acknowledged alert."""
    _act("dismiss", alert_id, by=by, reason=reason)


@click.command()
@click.argument("customer")
@click.option("--json", "as_json", is_flag=True)
def risk(customer: str, as_json: bool) -> None:
    """A customer's risk flag (sensitive or not) and how it changed."""
    ui = _ui()
    with ui._platform() as platform:
        data = risk_json(platform.decisions.risk_of(customer), customer)
    if as_json:
        ui._emit_json(data)
    else:
        print_risk(ui.console, data)


@click.command()
@click.argument("customer")
@click.option("--by", required=True, help="The supervisor clearing the flag.")
@click.option("--reason", required=True)
def clear(customer: str, by: str, reason: str) -> None:
    """Clear a customer's sensitive flag (a new complaint raises it again)."""
    ui = _ui()
    with ui._platform() as platform:
        try:
            platform.decisions.clear_flag(customer, by=by, reason=reason)
        except (AlertNotFound, InvalidTransition) as exc:
            _fail(str(exc))
    ui.console.print(f"customer {customer} is no longer flagged sensitive")


@click.command("relay")
@click.option("--follow", is_flag=True, help="Keep publishing until stopped.")
@click.option("--json", "as_json", is_flag=True)
def relay(follow: bool, as_json: bool) -> None:
    """Publish recorded alert and flag changes to their topics (exactly once)."""
    ui = _ui()
    with ui._platform() as platform:
        if follow:
            stop = threading.Event()
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
            beat = platform.settings.path("health", "relay")
            beat.parent.mkdir(parents=True, exist_ok=True)
            stats = platform.relay.follow(stop, heartbeat=beat.touch)
        else:
            stats = platform.relay.run_once()
    payload = {
        "notifications": stats.notifications,
        "published": stats.published,
        "recovered": stats.recovered,
        "next_notification": stats.next_notification,
    }
    if as_json:
        ui._emit_json(payload)
    else:
        ui.console.print(
            f"published {sum(stats.published.values()):,} message(s) from "
            f"{stats.notifications:,} notification(s); {stats.recovered} found already published"
        )
