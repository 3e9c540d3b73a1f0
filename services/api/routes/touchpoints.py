"""``POST /v1/touchpoints``: channels and connectors post touchpoints (see
:mod:`services.api.intake`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from services.api.auth import PlatformDep, require
from services.api.errors import ApiError, error_body
from services.api.intake import NDJSON, post_submissions, submissions_of
from services.security import Capability, Principal

__all__ = ["MAX_BODY_BYTES", "router"]

router = APIRouter(prefix="/v1", tags=["touchpoints"])

#: The largest body one request may carry (bigger batches: several requests, or a file ingest).
MAX_BODY_BYTES = 16 * 1024 * 1024
_JSON = frozenset({"application/json", ""})

_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"type": "object", "description": "one touchpoint record"},
                        {"type": "array", "items": {"type": "object"}},
                    ]
                }
            },
            NDJSON: {"schema": {"type": "string", "description": "one JSON object per line"}},
        },
    }
}


@router.post(
    "/touchpoints",
    status_code=202,
    summary="Submit touchpoints (one JSON object, a JSON array, or NDJSON)",
    openapi_extra=_BODY_DOC,
    responses={
        202: {"description": "taken; per-record outcome"},
        422: {"description": "all rejected"},
    },
)
async def post_touchpoints(
    request: Request,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Capability.TOUCHPOINTS_WRITE))],
) -> JSONResponse:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in _JSON and media_type != NDJSON:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send application/json (an object or an array) or {NDJSON}, not {media_type!r}",
        )
    body = await _body(request)
    submissions = submissions_of(body, media_type, f"api:{principal.name}")
    if not submissions:
        raise ApiError(422, "empty", "the body holds no record")
    outcome = await run_in_threadpool(
        post_submissions, platform, submissions, request.app.state.clock
    )
    data = outcome.to_json()
    if outcome.rejected == outcome.submitted:
        message = f"every record was rejected ({outcome.rejected}); see errors"
        data.update(error_body("rejected", message, outcome.errors))
        return JSONResponse(data, status_code=422)
    return JSONResponse(data, status_code=202)


async def _body(request: Request) -> str:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", errors="replace")


def _too_large() -> ApiError:
    return ApiError(
        413, "too_large", f"a request carries at most {MAX_BODY_BYTES:,} bytes; split the batch"
    )
