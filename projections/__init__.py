"""Projections: pure folds over touchpoints, the projector runtime and the ClickHouse views."""

from projections.clickhouse import ViewStore, connect
from projections.journey import JOURNEY_COLUMNS, JourneyEntry
from projections.policy import ProjectionConfig, load_projection_config
from projections.positions import ClickHousePositionStore
from projections.projector import ProjectionStats, Projector, Undecodable
from projections.views import standard_folds

__all__ = [
    "JOURNEY_COLUMNS",
    "ClickHousePositionStore",
    "JourneyEntry",
    "ProjectionConfig",
    "ProjectionStats",
    "Projector",
    "Undecodable",
    "ViewStore",
    "connect",
    "load_projection_config",
    "standard_folds",
]
