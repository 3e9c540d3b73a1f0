"""``GET /health``: the one endpoint that answers without a token (for load balancers and
container health checks), so it says nothing but whether the process and its live pipeline
are well."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness (no token needed)")
def health(request: Request) -> JSONResponse:
    pipeline = request.app.state.pipeline
    body: dict[str, Any] = {"status": "ok", "live": pipeline is not None}
    if pipeline is not None:
        state = pipeline.state()
        body["pipeline"] = {
            "running": state.running,
            "passes": state.passes,
            "failing": state.last_error is not None,
        }
        if not state.running:
            body["status"] = "failing"
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)
