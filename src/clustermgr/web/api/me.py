"""/api/v1/me: the user the token belongs to, with the role the token acts with."""

from __future__ import annotations

from fastapi import APIRouter

from clustermgr.web.api.models import UserPublic
from clustermgr.web.deps import ApiUser

router = APIRouter(tags=["me"])


@router.get("/me")
async def me(user: ApiUser) -> UserPublic:
    return UserPublic.of(user)
