"""ClickHouse views the projector keeps current (one module per view)."""

from __future__ import annotations

from projections.clickhouse import ViewStore
from projections.folding import FoldView
from projections.policy import ProjectionConfig
from projections.views.channel_view import ChannelView
from projections.views.compliance_view import ComplianceView
from projections.views.customer_view import CustomerView
from projections.views.journey_view import JourneyView
from projections.views.scene_view import SceneView

__all__ = [
    "ChannelView",
    "ComplianceView",
    "CustomerView",
    "JourneyView",
    "SceneView",
    "standard_folds",
]


def standard_folds(store: ViewStore, config: ProjectionConfig | None = None) -> list[FoldView]:
    """The per-customer fold views every deployment runs: scenes, compliance, customers."""
    config = config or ProjectionConfig()
    return [SceneView(store, config), ComplianceView(store, config), CustomerView(store)]
