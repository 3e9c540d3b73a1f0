"""The erasure commands: ``erase`` a customer's personal data, list the ``erasures``.
Registered on the ``servicetrace`` group by :mod:`services.cli`.

Exit codes of ``erase``: 0 erased (or erased again), 1 the platform holds nothing of that
customer (nothing recorded), 2 a request without ``--by`` or ``--reason`` text, or a broken
configuration.
"""

from __future__ import annotations

from typing import Any

import click

__all__ = ["register"]


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    for command in (erase, erasures):
        cli.add_command(command)


def _ui() -> Any:
    from services import cli as ui  # the shared console and error handling

    return ui


@click.command()
@click.argument("customer")
@click.option("--by", required=True, help="Who erases (recorded with the erasure).")
@click.option(
    "--reason", required=True, help="Why: the request's reference (recorded; no personal data)."
)
@click.option("--json", "as_json", is_flag=True)
def erase(customer: str, by: str, reason: str, as_json: bool) -> None:
    """Erase CUSTOMER's personal data for good: destroy their keys, scrub their dead letters,
    record the erasure. Counts and every non-personal fact still replay identically."""
    from services.erasure import NothingToErase, erasure_json
    from services.erasure import erase as erase_customer

    ui = _ui()
    with ui._platform() as platform:
        try:
            outcome = erase_customer(platform, customer, by, reason)
        except NothingToErase as exc:
            ui.err_console.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
            raise SystemExit(1) from None
    data = {
        "customer_id": outcome.erasure.customer_id,
        "already_erased": outcome.repeated,
        "keys_destroyed": outcome.keys_destroyed,
        "letters_scrubbed": outcome.letters_scrubbed,
        "erasure": erasure_json(outcome.erasure),
    }
    if as_json:
        ui._emit_json(data)
        return
    from services.render_erasure import print_erase

    print_erase(ui.console, data)


@click.command()
@click.option("--json", "as_json", is_flag=True)
def erasures(as_json: bool) -> None:
    """Every erasure: which customer, when, by whom, why, what it destroyed."""
    from services.erasure import erasure_json
    from services.erasure import erasures as all_erasures

    ui = _ui()
    with ui._platform() as platform:
        rows = [erasure_json(e) for e in all_erasures(platform.audit)]
    if as_json:
        ui._emit_json(rows)
        return
    from services.render_erasure import print_erasures

    print_erasures(ui.console, rows)
