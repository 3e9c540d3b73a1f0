"""``servicetrace metrics``: the Prometheus exposition the API serves at ``GET /metrics``.

For a process without an HTTP server (the relay, a one-off check from a shell) and for
scripts: ``docker compose exec servicetrace-relay servicetrace metrics`` shows the relay's
backlog, which only the relay's own data directory records in the Kafka shape.
Registered on the ``servicetrace`` group by :mod:`services.cli`.
"""

from __future__ import annotations

from typing import Any

import click

__all__ = ["register"]


def register(cli: click.Group) -> None:
    cli.add_command(metrics)


def _ui() -> Any:
    from services import cli as ui  # the shared console and error handling

    return ui


@click.command()
def metrics() -> None:
    """Print the Prometheus metrics (ingest, log ends, projector and risk lag, relay backlog,
    alerts by status and rule, dead letters), computed now from the configured stores."""
    from services.metrics import metrics_text

    with _ui()._platform() as platform:
        body, _ = metrics_text(platform)
    click.echo(body.decode("utf-8"), nl=False)
