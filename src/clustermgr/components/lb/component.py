"""The load balancer: NGINX on the proxy in front of the identity nodes."""

from __future__ import annotations

from pathlib import Path

from clustermgr.components.contract import Component
from clustermgr.components.lb import api, cli, jobs, pages
from clustermgr.components.lb.settingsstore import applied_clusters
from clustermgr.components.lb.status import status
from clustermgr.components.lb.watch import LbWatch

COMPONENT = Component(
    name="lb",
    title="Load balancer",
    summary="backends, drains, restarts",
    plan=jobs.PLAN,
    apply=jobs.APPLY,
    kinds=(jobs.STATUS, jobs.DRAIN, jobs.UNDRAIN, jobs.ROLLING_RESTART),
    status=status,
    set_up_in=applied_clusters,
    watch=LbWatch,
    cli=cli.app,
    api=api.router,
    pages=pages.router,
    has_page=True,
    templates=Path(__file__).parent / "templates",
)
