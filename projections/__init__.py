"""Projections: pure folds over touchpoints, the projector runtime and the ClickHouse views."""

from projections.clickhouse import ViewStore, connect
from projections.journey import JOURNEY_COLUMNS, JourneyEntry, journey_row
from projections.positions import ClickHousePositionStore
from projections.projector import (
    Batch,
    Decoder,
    Projection,
    ProjectionStats,
    Projector,
    Undecodable,
)

__all__ = [
    "JOURNEY_COLUMNS",
    "Batch",
    "ClickHousePositionStore",
    "Decoder",
    "JourneyEntry",
    "Projection",
    "ProjectionStats",
    "Projector",
    "Undecodable",
    "ViewStore",
    "connect",
    "journey_row",
]
