"""Token management for admins: list, issue (the secret is in this answer only), revoke."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from services.api.auth import PlatformDep, require
from services.security import Capability, Principal, Role

__all__ = ["router"]

router = APIRouter(prefix="/v1/tokens", tags=["tokens"])

Admin = Annotated[Principal, Depends(require(Capability.TOKENS_MANAGE))]


class TokenIn(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="who the token acts as (recorded as who read or acted)")
    roles: list[Role] = Field(min_length=1)


@router.get("", summary="Every token (never a secret)")
def tokens(platform: PlatformDep, principal: Admin) -> list[dict[str, Any]]:
    return [record.to_json() for record in platform.tokens.list()]


@router.post("", status_code=201, summary="Issue a token (its secret is shown here only)")
def create(body: TokenIn, platform: PlatformDep, principal: Admin) -> dict[str, Any]:
    issued = platform.tokens.create(body.name, [role.value for role in body.roles])
    return {**issued.record.to_json(), "token": issued.secret}


@router.delete("/{token_id}", summary="Revoke a token")
def revoke(token_id: str, platform: PlatformDep, principal: Admin) -> dict[str, Any]:
    return platform.tokens.revoke(token_id).to_json()
