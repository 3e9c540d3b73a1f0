"""``servicetrace rebuild``: the chosen projections replayed from position 0 and swapped in.

The mechanics are in :mod:`replay.rebuild`; this module picks what to rebuild from the names a
person types and reports what happened in one plain dictionary (printed, or JSON).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from replay.rebuild import RebuiltDecisions, rebuild_decisions, rebuild_views, reconcile
from services.platform import Platform

__all__ = ["PROJECTIONS", "VIEWS", "rebuild", "selected"]

#: The views the projector keeps (each one table), in the order they are listed.
VIEWS = ("journey", "scenes", "violations", "customers")
#: Every name ``--projection`` takes: a view, ``risk`` (the decisions), ``views`` or ``all``.
PROJECTIONS = (*VIEWS, "risk", "views", "all")


def selected(names: Iterable[str]) -> tuple[list[str], bool]:
    """The views to rebuild and whether to rebuild the decisions, from ``--projection``."""
    chosen = set(names) or {"all"}
    views = [v for v in VIEWS if v in chosen or chosen & {"views", "all"}]
    return views, bool(chosen & {"risk", "all"})


def rebuild(
    platform: Platform,
    names: Iterable[str],
    on_caught_up: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Rebuild the projections ``names`` (see :func:`selected`); the report as plain data."""
    views, risk = selected(names)
    report: dict[str, Any] = {}
    if views:
        everything = len(views) == len(VIEWS)
        swapped = rebuild_views(
            platform.projector,
            platform.views_in,
            None if everything else views,
            on_caught_up=on_caught_up,
        )
        seconds = swapped.seconds
        report["views"] = {
            "swapped": list(swapped.tables),
            "positions_swapped": swapped.positions_swapped,
            "events": swapped.stats.events,
            "undecodable": swapped.stats.undecodable_count,
            "seconds": round(seconds, 3),
            "events_per_second": round(swapped.stats.events / seconds) if seconds else None,
            "generation": swapped.generation,
            "checksums": platform.view_checksums()["views"],
        }
    if risk:
        report["risk"] = _rebuild_risk(platform)
    return report


def _rebuild_risk(platform: Platform) -> dict[str, Any]:
    projector = platform.projector
    rebuilt = rebuild_decisions(
        platform.journey_view,
        projector.positions,
        platform.decisions,
        platform.rules,
        platform.projection_config,
        partitions=platform.log.partitions,
        upstream=projector.name,
        batch_size=platform.settings.projection_batch_size,
    )
    applied, withdrawn = reconcile(platform.decisions, rebuilt)
    return {**_comparison_json(rebuilt), "applied": applied, "withdrawn": withdrawn}


def _comparison_json(rebuilt: RebuiltDecisions) -> dict[str, Any]:
    comparison = rebuilt.comparison
    return {
        "facts": rebuilt.facts,
        "seconds": round(rebuilt.seconds, 3),
        "customers": comparison.customers,
        "production_decisions": comparison.production,
        "rebuilt_decisions": comparison.rebuilt,
        "identical": comparison.identical,
        "only_rebuilt": {c: list(ids) for c, ids in comparison.only_rebuilt.items()},
        "only_production": {c: list(ids) for c, ids in comparison.only_production.items()},
    }
