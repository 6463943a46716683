"""/api/v1/clusters/{name}/keys: the sealed signing keys and the rotation in progress
(read from the inventory, no SSH), and the keys settings (read by any role, changed
by admins, audited).

The rotation, its plan and the status read from the nodes are jobs
(``POST /api/v1/jobs`` with kind ``keys-rotate-plan``, ``keys-rotate`` and
``keys-status``; the rotation's params ``{"wait": true, "restart": false}``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from clustermgr.components.keys import settings, store
from clustermgr.components.keys.status import sealed
from clustermgr.web.api.models import ClusterName
from clustermgr.web.api.responses import errors
from clustermgr.web.deps import ApiUser, WebDep

router = APIRouter(prefix="/clusters", tags=["signing keys"])


class KeyPublic(BaseModel):
    key_id: str = Field(description="The key's kid: what a token's header names.")
    signs: bool = Field(description="The key that signs new tokens.")
    created: str | None = Field(description="When the manager made it (null: it did not).")


class KeysSettingsPublic(BaseModel):
    token_lifetime: int = Field(
        description="Seconds the identity app's tokens are valid: the old keys go this long "
        f"after the new one signs ({settings.allowed(settings.TOKEN_LIFETIME_KEY)})."
    )
    rotate_every_days: int | None = Field(
        description="Rotate on a schedule every this many days "
        f"({settings.allowed(settings.ROTATE_EVERY_DAYS_KEY)}); null: only when asked."
    )


class KeysPublic(BaseModel):
    cluster: str
    problem: str = Field(description="Why there are no keys to show (empty when there are).")
    keys: list[KeyPublic] | None = Field(description="The sealed keystore's keys, in order.")
    sha256: str | None = Field(description="The SHA-256 of the sealed keystore.")
    rotation: dict[str, Any] | None = Field(
        description="The rotation in progress: new_kid, old_kids, phase (add, sign, remove), "
        "started, signing_since, removable_at; null: none."
    )
    last_rotated: str | None
    settings: KeysSettingsPublic


class KeysSettingsUpdate(BaseModel):
    """The settings to change (those not given stay; ``rotate_every_days: null`` turns
    the schedule off)."""

    model_config = ConfigDict(extra="forbid")

    token_lifetime: int | None = None
    rotate_every_days: int | None = None


@router.get("/{name}/keys", responses=errors(404, 422))
async def keys(name: ClusterName, web: WebDep) -> KeysPublic:
    """The sealed keys (which signs), the rotation in progress and the settings."""
    found = (await sealed(web.manager, name)).as_dict()
    found.pop("nodes")
    found.pop("ok")
    return KeysPublic.model_validate(found)


@router.get("/{name}/keys/settings", responses=errors(404, 422))
async def keys_settings(name: ClusterName, web: WebDep) -> KeysSettingsPublic:
    found = await store.keys_state(web.manager, name)
    return KeysSettingsPublic.model_validate(found.settings.as_dict())


@router.patch("/{name}/keys/settings", responses=errors(400, 403, 404, 422))
async def change_keys_settings(
    name: ClusterName, body: KeysSettingsUpdate, web: WebDep, user: ApiUser
) -> KeysSettingsPublic:
    """Change the settings given (a value out of range is a 400, and nothing changes).
    Admins only."""
    after = await store.change_settings(
        web.manager,
        name,
        body.model_dump(exclude_unset=True),
        actor=user.username,
        as_role=user.role,
    )
    return KeysSettingsPublic.model_validate(after.as_dict())
