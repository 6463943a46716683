"""Monitoring: the field's standard exporters on every server, bound to 127.0.0.1, and
the manager's scrape of them through each server's SSH connection."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from clustermgr.components.contract import Component, Parts, loads

if TYPE_CHECKING:
    from fastapi import APIRouter


def _parts() -> Parts:
    from clustermgr.components.metrics import jobs
    from clustermgr.components.metrics.settingsstore import applied_clusters
    from clustermgr.components.metrics.status import status
    from clustermgr.components.metrics.watch import MetricsWatch

    return Parts(
        plan=jobs.PLAN,
        apply=jobs.APPLY,
        status=status,
        set_up_in=applied_clusters,
        watch=MetricsWatch,
    )


def _api() -> APIRouter:
    from fastapi import APIRouter

    from clustermgr.components.metrics import api, ruleapi

    router = APIRouter()
    router.include_router(api.router)
    router.include_router(ruleapi.router)
    return router


def _pages() -> APIRouter:
    from fastapi import APIRouter

    from clustermgr.components.metrics import pages, rulepages

    router = APIRouter()
    # The rules first: /clusters/NAME/metrics/rules is no server's page.
    router.include_router(rulepages.router)
    router.include_router(pages.router)
    return router


COMPONENT = Component(
    name="metrics",
    title="Monitoring",
    summary="charts of every server and service",
    parts=_parts,
    cli=loads(f"{__package__}.cli", "app"),
    cli_help="Metrics of every server and service, scraped by the watcher.",
    api=_api,
    pages=_pages,
    has_page=True,
    server_page="charts of this server",
    templates=Path(__file__).parent / "templates",
    # The exporters read what the stages before them set up: slapd's cn=monitor builds on
    # the directory LDAP replication configures, the Redis exporter needs the Redis
    # password the cache makes, the NGINX exporter reads the stub_status the load
    # balancer serves (it gives up when that does not answer at its start).
    needs=("ldap", "cache", "lb"),
    # Its alerts (a threshold rule's, a server out of reach) are about the servers: the
    # exporters it set up may be fine; the cluster's alerts show them.
    setup_alerts=(),
)
