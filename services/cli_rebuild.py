"""``servicetrace rebuild``, registered on the ``servicetrace`` group by :mod:`services.cli`."""

from __future__ import annotations

from typing import Any

import click

from services.rebuild import PROJECTIONS

__all__ = ["register"]


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(rebuild)


@click.command()
@click.option(
    "--projection",
    "projections",
    type=click.Choice(PROJECTIONS),
    multiple=True,
    help="What to rebuild (repeatable): a view, risk (the decisions), views, or all (default).",
)
@click.option("--json", "as_json", is_flag=True)
def rebuild(projections: tuple[str, ...], as_json: bool) -> None:
    """Replay the log from position 0 into shadow tables and swap them in once caught up.

    The live views keep answering while the shadow is built; the swap is atomic per table.
    Decisions are replayed into a shadow store and compared with production's by id: identical
    ids change nothing and publish nothing; after a rules change the difference is applied
    (new decisions published once, vanished ones withdrawn).
    """
    from services import cli as ui
    from services.rebuild import rebuild as run

    with ui._platform() as platform:
        report = run(platform, projections)
    if as_json:
        ui._emit_json(report)
        return
    _print(ui.console, report)


def _print(console: Any, report: dict[str, Any]) -> None:
    views = report.get("views")
    if views:
        console.print(
            f"views: {views['events']:,} touchpoints replayed in {views['seconds']:.1f} s "
            f"({views['events_per_second'] or 0:,}/s); swapped in {', '.join(views['swapped'])}"
            f"{' and their positions' if views['positions_swapped'] else ''} "
            f"(generation {views['generation']})"
        )
        for name, value in views["checksums"].items():
            console.print(f"  {name:<12} {value:>20}")
    risk = report.get("risk")
    if risk:
        verdict = "identical to production" if risk["identical"] else "different from production"
        console.print(
            f"risk: {risk['facts']:,} facts replayed in {risk['seconds']:.1f} s; "
            f"{risk['rebuilt_decisions']:,} decisions for {risk['customers']:,} customers, "
            f"{verdict}; {risk['applied']:,} applied, {risk['withdrawn']:,} withdrawn"
        )
