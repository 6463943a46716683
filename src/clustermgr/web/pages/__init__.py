"""GUI pages. Every router but the sign-in one requires a session (see deps)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Depends

from clustermgr.components.contract import Component
from clustermgr.web.deps import current_session
from clustermgr.web.pages import (
    account,
    alerts,
    apidocs,
    audit,
    clusters,
    dashboard,
    jobs,
    nodes,
    notify,
    servers,
    signin,
)
from clustermgr.web.pages.common import alert_badge


def pages_router(components: Sequence[Component]) -> APIRouter:
    """Sign-in, then the generic pages and every component's own behind a session."""
    router = APIRouter(include_in_schema=False)
    router.include_router(signin.router)
    protected = APIRouter(dependencies=[Depends(current_session), Depends(alert_badge)])
    protected.include_router(dashboard.router(components))
    for pages in (servers, clusters, nodes):
        protected.include_router(pages.router)
    protected.include_router(alerts.router(components))
    for component in components:
        if component.pages is not None:
            protected.include_router(component.pages())
    for pages in (jobs, notify, audit, account, apidocs):
        protected.include_router(pages.router)
    router.include_router(protected)
    return router
