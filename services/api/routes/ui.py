"""Browser sign-in for the web pages: the API token in an HttpOnly session cookie.

``POST /ui/session`` checks a pasted token and, when it is valid, sets it as the session
cookie (HttpOnly: no page script can read it back; ``SameSite=Strict``: the browser never
sends it with a request another site starts; ``Secure`` when served over HTTPS). The token
itself is the session: revoking it ends every browser session that holds it, and every
request is checked against the token store exactly as a bearer header is
(:func:`services.api.auth.authenticate`). Both POSTs need ``X-Servicetrace: 1`` (no
cross-site form can sign someone in or out).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.api.auth import SESSION_COOKIE, PlatformDep, authenticate, require_csrf_header
from services.api.errors import ApiError
from services.security import Principal

__all__ = ["router"]

#: Not in the OpenAPI document: these belong to the pages (the browser's session), not to the
#: API that programs call with a bearer token.
router = APIRouter(prefix="/ui", tags=["web"], include_in_schema=False)


class SessionIn(BaseModel):
    """A pasted API token."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token: str = Field(min_length=1, max_length=512, description="st_<id>_<secret>")


def _who(principal: Principal) -> dict[str, Any]:
    return {
        "name": principal.name,
        "roles": [role.value for role in principal.roles],
        "capabilities": sorted(capability.value for capability in principal.capabilities),
    }


@router.post("/session", summary="Sign a browser in: the token becomes its session cookie")
def sign_in(
    body: SessionIn, request: Request, response: Response, platform: PlatformDep
) -> dict[str, Any]:
    require_csrf_header(request)
    token = body.token.strip()
    principal = platform.tokens.authenticate(token)
    if principal is None:
        raise ApiError(401, "invalid_token", "the token is malformed, unknown or revoked")
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return _who(principal)


@router.get("/session", summary="Who the browser is signed in as")
def session(principal: Annotated[Principal, Depends(authenticate)]) -> dict[str, Any]:
    return _who(principal)


@router.post("/logout", summary="Sign the browser out (the token itself stays valid)")
def logout(request: Request, response: Response) -> dict[str, Any]:
    require_csrf_header(request)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return {"signed_out": True}
