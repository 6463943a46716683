"""The cache: Redis on every identity node, reached through stunnel and twemproxy."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from clustermgr.components.contract import Component, Parts, applying

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter


def _parts() -> Parts:
    from clustermgr.components.cache import desired, jobs, lifecycle, status
    from clustermgr.components.cache.gauges import gauges
    from clustermgr.components.cache.watch import CacheWatch

    return Parts(
        plan=jobs.PLAN,
        apply=jobs.APPLY,
        kinds=(jobs.STATUS,),
        status=status.status,
        set_up_in=desired.cache_clusters,
        watch=CacheWatch,
        gauges=gauges,
        leave=applying(jobs.APPLY),
        effects=lifecycle.effects,
    )


def _cli() -> typer.Typer:
    from clustermgr.components.cache.cli import app

    return app


def _api() -> APIRouter:
    from clustermgr.components.cache.api import router

    return router


def _pages() -> APIRouter:
    from clustermgr.components.cache.pages import router

    return router


COMPONENT = Component(
    name="cache",
    title="Cache",
    summary="Redis, stunnel, twemproxy",
    parts=_parts,
    cli=_cli,
    cli_help="The cache: Redis behind stunnel and twemproxy.",
    api=_api,
    pages=_pages,
    has_page=True,
    templates=Path(__file__).parent / "templates",
    metrics_series=(
        "redis_commands",
        "redis_memory_used_bytes",
        "redis_hit_ratio",
        "redis_clients",
        "twemproxy_requests",
        "twemproxy_errors",
    ),
)
