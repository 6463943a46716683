"""GUI pages. Every router but the sign-in one requires a session (see deps)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from clustermgr.web.deps import current_session
from clustermgr.web.pages import (
    account,
    audit,
    cachepage,
    clusters,
    dashboard,
    jobs,
    loadbalancer,
    replication,
    servers,
    signin,
)

router = APIRouter(include_in_schema=False)
router.include_router(signin.router)

protected = APIRouter(dependencies=[Depends(current_session)])
for pages in (
    dashboard,
    servers,
    clusters,
    replication,
    cachepage,
    loadbalancer,
    jobs,
    audit,
    account,
):
    protected.include_router(pages.router)
router.include_router(protected)
