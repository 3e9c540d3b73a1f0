"""Plain-data shapes of what the views answer, shared by the CLI, the demo and (later) the API."""

from __future__ import annotations

from typing import Any

from projections.projector import ProjectionStats
from projections.views.journey_view import JourneyView

__all__ = ["projection_json", "summary_json"]


def projection_json(stats: ProjectionStats) -> dict[str, Any]:
    return {
        "events": stats.events,
        "batches": stats.batches,
        "undecodable": stats.undecodable_count,
        "undecodable_records": [
            {
                "partition": u.partition,
                "position": u.position,
                "event_id": u.event_id,
                "reason": u.reason,
            }
            for u in stats.undecodable
        ],
        "positions": {str(p): n for p, n in sorted(stats.positions.items())},
    }


def summary_json(view: JourneyView) -> dict[str, Any]:
    summary = view.summary()
    return {
        "touchpoints": summary.total,
        "customers": view.customer_count(),
        "by_channel": dict(sorted(summary.by_channel.items(), key=lambda kv: -kv[1])),
        "by_kind": dict(sorted(summary.by_kind.items(), key=lambda kv: -kv[1])),
    }
