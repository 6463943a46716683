"""/api/v1/audit: the audit trail, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from clustermgr.audit import service as audit
from clustermgr.web.api.models import MAX_ID, MAX_PAGE, AuditPage, AuditPublic, next_before
from clustermgr.web.api.responses import errors
from clustermgr.web.deps import WebDep

router = APIRouter(tags=["audit"])


@router.get("/audit", responses=errors(422))
async def audit_entries(
    web: WebDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    actor: Annotated[str | None, Query(max_length=64)] = None,
) -> AuditPage:
    """Who did what, when; page on with ``before_id``."""
    views = await audit.entries(web.manager, limit=limit, before_id=before_id, actor=actor)
    return AuditPage(
        items=[AuditPublic.of(v) for v in views],
        next_before_id=next_before([v.id for v in views], limit),
    )
