"""The audit trail: who did what, when, with what result; newest first, paged."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from clustermgr.audit import service as audit
from clustermgr.web.deps import WebDep
from clustermgr.web.pages.common import PAGE_SIZE, render

router = APIRouter()


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request, web: WebDep, before: int | None = None, actor: str = ""
) -> Response:
    entries = await audit.entries(
        web.manager, limit=PAGE_SIZE, before_id=before, actor=actor.strip() or None
    )
    older = entries[-1].id if len(entries) == PAGE_SIZE else None
    context = {"entries": entries, "older": older, "actor": actor.strip(), "paged": bool(before)}
    return render(web, request, "audit.html", context)
