"""Authentication and authorisation as FastAPI dependencies.

Every endpoint but ``GET /health`` depends on :func:`require` with the one capability it
needs (:mod:`services.security.roles` says which roles have it). No token, or one that is
malformed, unknown or revoked: 401 with ``WWW-Authenticate: Bearer``. A valid token whose roles
lack the capability: 403 naming the capability.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.api.errors import ApiError
from services.platform import Platform
from services.security import Capability, Principal

__all__ = ["PlatformDep", "authenticate", "platform_of", "require", "require_also"]

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
    """The caller's principal, or 401."""
    if credentials is None:
        raise ApiError(
            401,
            "unauthenticated",
            "this endpoint needs a token: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = platform_of(request).tokens.authenticate(credentials.credentials)
    if principal is None:
        raise ApiError(
            401,
            "invalid_token",
            "the token is malformed, unknown or revoked",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    request.state.principal = principal
    return principal


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
