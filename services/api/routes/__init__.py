"""The API's routers, one module per area; :data:`ROUTERS` is what the app includes."""

from __future__ import annotations

from fastapi import APIRouter

from services.api.routes import (
    alerts,
    analytics,
    audit,
    customers,
    health,
    risk,
    scenes,
    tokens,
    touchpoints,
)

__all__ = ["ROUTERS"]

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    touchpoints.router,
    customers.router,
    scenes.router,
    analytics.router,
    alerts.router,
    risk.router,
    audit.router,
    tokens.router,
)
