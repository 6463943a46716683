"""LDAP replication: multi-provider delta-syncrepl across the identity nodes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from clustermgr.components.contract import Component, Parts, applying

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter


def _parts() -> Parts:
    from clustermgr.components.ldap import jobs, lifecycle, status
    from clustermgr.components.ldap.replicated import replicated_clusters
    from clustermgr.components.ldap.watch import LdapWatch

    return Parts(
        plan=jobs.PLAN,
        apply=jobs.APPLY,
        kinds=(jobs.STATUS, jobs.COMPARE, jobs.REINIT),
        status=status.status,
        set_up_in=replicated_clusters,
        watch=LdapWatch,
        leave=applying(jobs.APPLY),
        effects=lifecycle.effects,
    )


def _cli() -> typer.Typer:
    from clustermgr.components.ldap.cli import app

    return app


def _api() -> APIRouter:
    from clustermgr.components.ldap.api import router

    return router


def _pages() -> APIRouter:
    from clustermgr.components.ldap.pages import router

    return router


COMPONENT = Component(
    name="ldap",
    title="LDAP replication",
    summary="health, lag, probes",
    parts=_parts,
    cli=_cli,
    cli_help="LDAP multi-provider replication.",
    api=_api,
    pages=_pages,
    has_page=True,
    templates=Path(__file__).parent / "templates",
    metrics_series=("ldap_operations", "ldap_connections"),
)
