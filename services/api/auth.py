"""Authentication and authorisation as FastAPI dependencies.

Every endpoint but ``GET /health`` depends on :func:`require` with the one capability it
needs (:mod:`services.security.roles` says which roles have it). No token, or one that is
malformed, unknown or revoked: 401 with ``WWW-Authenticate: Bearer``. A valid token whose roles
lack the capability: 403 naming the capability.

Browsers (the web pages under ``/ui``) cannot put a header on an ``EventSource``, so the same
token is also accepted from the HttpOnly, ``SameSite=Strict`` session cookie that
``POST /ui/session`` sets (:mod:`services.api.routes.ui`). A cookie is sent by the browser on
its own, which is what cross-site request forgery abuses: a request authenticated by the
cookie that changes anything (any method but GET, HEAD, OPTIONS) must also carry
``X-Servicetrace: 1``, a header no cross-site form can set and no cross-site script may send
without a CORS preflight this app never grants. A bearer header wins over the cookie.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.api.errors import ApiError
from services.platform import Platform
from services.security import Capability, Principal

__all__ = [
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "PlatformDep",
    "authenticate",
    "platform_of",
    "require",
    "require_also",
    "require_csrf_header",
]

#: The session cookie the web pages sign in with (it holds the API token).
SESSION_COOKIE = "servicetrace_session"
#: The header a cookie-authenticated change must carry, with the value ``1``.
CSRF_HEADER = "X-Servicetrace"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="an API token: st_<id>_<secret>")


def platform_of(request: Request) -> Platform:
    """The platform the app was created with."""
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(platform_of)]


def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller's principal, or 401 (403 for a cookie-authenticated change without the
    :data:`CSRF_HEADER`)."""
    token = None if credentials is None else credentials.credentials
    if token is None:
        token = request.cookies.get(SESSION_COOKIE) or None
        if token is not None and request.method not in _SAFE_METHODS:
            require_csrf_header(request)
    if token is None:
        raise ApiError(
            401,
            "unauthenticated",
            "this endpoint needs a token: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = platform_of(request).tokens.authenticate(token)
    if principal is None:
        raise ApiError(
            401,
            "invalid_token",
            "the token is malformed, unknown or revoked",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    request.state.principal = principal
    return principal


def require_csrf_header(request: Request) -> None:
    """403 unless the request carries ``X-Servicetrace: 1`` (see the module doc)."""
    if request.headers.get(CSRF_HEADER) != "1":
        raise ApiError(
            403,
            "csrf_header_missing",
            f"a change made with the session cookie needs the header {CSRF_HEADER}: 1",
            {"header": CSRF_HEADER},
        )


def require_also(principal: Principal, capability: Capability) -> None:
    """403 unless ``principal`` may do ``capability`` (for a second capability an endpoint
    needs only with some parameters, such as ``as_of``)."""
    if not principal.can(capability):
        roles = ", ".join(role.value for role in principal.roles)
        raise ApiError(
            403,
            "forbidden",
            f"the token's roles ({roles}) do not allow {capability.value}",
            {"required": capability.value, "roles": [role.value for role in principal.roles]},
        )


def require(capability: Capability) -> Callable[..., Principal]:
    """A dependency: the authenticated principal, allowed ``capability`` (else 401/403)."""

    def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        require_also(principal, capability)
        return principal

    check.__name__ = f"require_{capability.name.lower()}"
    return check
