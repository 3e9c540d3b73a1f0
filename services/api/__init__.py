"""The HTTP API (FastAPI): see :mod:`services.api.app`."""

from __future__ import annotations

from services.api.app import create_app

__all__ = ["create_app"]
