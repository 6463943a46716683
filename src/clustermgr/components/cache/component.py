"""The cache: Redis on every identity node, reached through stunnel and twemproxy."""

from __future__ import annotations

from pathlib import Path

from clustermgr.components.cache import api, cli, desired, jobs, pages, status
from clustermgr.components.cache.watch import CacheWatch
from clustermgr.components.contract import Component

COMPONENT = Component(
    name="cache",
    title="Cache",
    summary="Redis, stunnel, twemproxy",
    plan=jobs.PLAN,
    apply=jobs.APPLY,
    kinds=(jobs.STATUS,),
    status=status.status,
    set_up_in=desired.cache_clusters,
    watch=CacheWatch,
    cli=cli.app,
    api=api.router,
    pages=pages.router,
    has_page=True,
    templates=Path(__file__).parent / "templates",
)
