"""ClickHouse views the projector keeps current (one module per view)."""

from projections.views.journey_view import JourneyView

__all__ = ["JourneyView"]
