"""GUI pages. Every router but the sign-in one requires a session (see deps)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Depends

from clustermgr.components.contract import Component
from clustermgr.web.deps import current_session
from clustermgr.web.pages import (
    account,
    apidocs,
    audit,
    clusters,
    dashboard,
    jobs,
    servers,
    signin,
)


def pages_router(components: Sequence[Component]) -> APIRouter:
    """Sign-in, then the generic pages and every component's own behind a session."""
    router = APIRouter(include_in_schema=False)
    router.include_router(signin.router)
    protected = APIRouter(dependencies=[Depends(current_session)])
    for pages in (dashboard, servers, clusters):
        protected.include_router(pages.router)
    for component in components:
        if component.pages is not None:
            protected.include_router(component.pages)
    for pages in (jobs, audit, account, apidocs):
        protected.include_router(pages.router)
    router.include_router(protected)
    return router
