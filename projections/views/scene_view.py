"""The service-scene view: one row per episode, kept current as touchpoints arrive.

The fold is :func:`projections.scenes.scenes_of`; this module owns the ClickHouse table (a
:class:`~projections.views.fold_table.FoldTable` keyed by episode id) and the reads behind
``servicetrace scenes`` and ``servicetrace scene``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

from projections.clickhouse import ViewStore
from projections.facts import Fact
from projections.policy import ProjectionConfig
from projections.scenes import Scene, SceneFold, price_table
from projections.views.fold_table import Column, FoldTable, FoldTableView, Insert, micros

__all__ = ["SceneView"]

_HANDOFF = (
    "Tuple(at DateTime64(6, 'UTC'), kind String, source String, target String, event_id String)"
)
_PAIRING = (
    "Tuple(event_id String, kind String, at DateTime64(6, 'UTC'), "
    "execution_event_id Nullable(String), execution_kind Nullable(String), "
    "executed_at Nullable(DateTime64(6, 'UTC')), status String)"
)
_UTC = "fromUnixTimestamp64Micro"

COLUMNS: tuple[Column, ...] = (
    Column("customer_id", "String"),
    Column("episode_id", "String"),
    Column("service_type", "LowCardinality(String)"),
    Column("case_id", "Nullable(String)"),
    micros("started_at"),
    Column("started_offset_minutes", "Int16"),
    micros("ended_at"),
    Column("touchpoints", "UInt32"),
    Column("contacts", "UInt32"),
    Column("inbound_contacts", "UInt32"),
    Column("channels", "Array(LowCardinality(String))"),
    Column("channel_path", "Array(LowCardinality(String))"),
    Column("entry_channel", "LowCardinality(String)"),
    Column(
        "handoffs",
        f"Array({_HANDOFF})",
        "Array(Tuple(Int64, String, String, String, String))",
        f"arrayMap(h -> ({_UTC}(h.1, 'UTC'), h.2, h.3, h.4, h.5), handoffs)",
    ),
    Column("status", "LowCardinality(String)"),
    micros("first_resolved_at", nullable=True),
    micros("resolved_at", nullable=True),
    Column("time_to_resolution_seconds", "Nullable(Float64)"),
    Column("reopened", "UInt16"),
    Column("first_contact_resolution", "Nullable(Bool)"),
    Column("outcome", "LowCardinality(Nullable(String))"),
    Column("satisfaction", "Nullable(Float64)"),
    Column("feedback_count", "UInt32"),
    Column("wait_seconds", "Float64"),
    Column("handle_seconds", "Float64"),
    Column("cost", "Float64"),
    Column(
        "pairings",
        f"Array({_PAIRING})",
        "Array(Tuple(String, String, Int64, Nullable(String), Nullable(String), "
        "Nullable(Int64), String))",
        f"arrayMap(p -> (p.1, p.2, {_UTC}(p.3, 'UTC'), p.4, p.5, "
        f"if(isNull(p.6), NULL, {_UTC}(assumeNotNull(p.6), 'UTC')), p.7), pairings)",
    ),
    Column("unmatched_promises", "UInt16"),
    Column("event_ids", "Array(String)"),
)
_NAMES = tuple(column.name for column in COLUMNS)
_SELECT = ", ".join(f"`{name}`" for name in _NAMES)


def scene_row(scene: Scene) -> tuple[Any, ...]:
    """``scene`` as values in :data:`COLUMNS` order (times in microseconds)."""
    return (
        scene.customer_id,
        scene.episode_id,
        scene.service_type,
        scene.case_id,
        scene.started_at,
        scene.started_offset_minutes,
        scene.ended_at,
        scene.touchpoints,
        scene.contacts,
        scene.inbound_contacts,
        scene.channels,
        scene.channel_path,
        scene.entry_channel,
        [(h.at, h.kind, h.source, h.target, h.event_id) for h in scene.handoffs],
        scene.status,
        scene.first_resolved_at,
        scene.resolved_at,
        scene.time_to_resolution_seconds,
        scene.reopened,
        scene.first_contact_resolution,
        scene.outcome,
        scene.satisfaction,
        scene.feedback_count,
        scene.wait_seconds,
        scene.handle_seconds,
        scene.cost,
        [
            (
                p.event_id,
                p.kind,
                p.at,
                p.execution_event_id,
                p.execution_kind,
                p.executed_at,
                p.status,
            )
            for p in scene.pairings
        ],
        len(scene.unmatched_promises),
        scene.event_ids,
    )


class SceneView(FoldTableView):
    """``scenes``: the fold view of episodes (see :mod:`projections.scenes`)."""

    name = "scenes"

    def __init__(self, store: ViewStore, config: ProjectionConfig | None = None) -> None:
        self.config = config or ProjectionConfig()
        self.store = store
        self.rows = FoldTable(store, self.name, ("episode_id",), COLUMNS)
        self._prices = price_table(self.config.costs)

    # -- the fold ----------------------------------------------------------------------------

    def fold(self, facts: Sequence[Fact], scratch: dict[str, Any]) -> dict[Hashable, Scene]:
        fold = scratch.get("scenes")
        if fold is None:
            fold = scratch["scenes"] = SceneFold(
                self.config.scenes, self.config.costs, self._prices
            )
        return {scene.episode_id: scene for scene in fold.scenes(facts)}

    def encode_upsert(self, scenes: Sequence[Scene], version: int) -> Insert | None:
        return self.rows.encode_upsert([scene_row(scene) for scene in scenes], version)

    # -- reads -----------------------------------------------------------------------------

    def for_customer(self, customer_id: str) -> list[dict[str, Any]]:
        """The customer's episodes, oldest first."""
        return self._select(
            "customer_id = {customer:String} ORDER BY started_at, episode_id",
            {"customer": customer_id},
        )

    def get(self, episode_id: str) -> dict[str, Any] | None:
        found = self._select("episode_id = {episode:String}", {"episode": episode_id})
        return found[0] if found else None

    def _select(self, where: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
        result = self.store.client.query(
            f"SELECT {_SELECT} FROM {self.rows.table} FINAL WHERE {where}", parameters=parameters
        )
        return [dict(zip(_NAMES, row, strict=True)) for row in result.result_rows]

    def membership(self) -> tuple[int, int]:
        """(touchpoints placed in episodes, distinct touchpoints among them): equal when every
        touchpoint sits in exactly one episode."""
        total, distinct = self.store.rows(
            f"SELECT count(), uniqExact(event) FROM {self.rows.table} FINAL "
            "ARRAY JOIN event_ids AS event"
        )[0]
        return int(total), int(distinct)

    def totals(self) -> dict[str, Any]:
        """Episode counts and first-contact-resolution figures over the whole view."""
        row = self.store.rows(
            "SELECT count(), countIf(status = 'open'), countIf(resolved_at IS NOT NULL), "
            "countIf(first_contact_resolution), countIf(first_contact_resolution IS NOT NULL), "
            "sum(unmatched_promises), avgIf(time_to_resolution_seconds, "
            f"time_to_resolution_seconds IS NOT NULL) FROM {self.rows.table} FINAL"
        )[0]
        episodes, open_, resolved, fcr, eligible, unmatched, ttr = row
        return {
            "episodes": int(episodes),
            "open": int(open_),
            "resolved": int(resolved),
            "first_contact_resolved": int(fcr),
            "fcr_eligible": int(eligible),
            "fcr_rate": (fcr / eligible) if eligible else None,
            "unmatched_promises": int(unmatched),
            "mean_time_to_resolution_hours": None if ttr is None or math.isnan(ttr) else ttr / 3600,
        }
