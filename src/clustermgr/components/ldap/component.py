"""LDAP replication: multi-provider delta-syncrepl across the identity nodes."""

from __future__ import annotations

from pathlib import Path

from clustermgr.components.contract import Component
from clustermgr.components.ldap import api, cli, jobs, pages, status
from clustermgr.components.ldap.replicated import replicated_clusters
from clustermgr.components.ldap.watch import LdapWatch

COMPONENT = Component(
    name="ldap",
    title="LDAP replication",
    summary="health, lag, probes",
    plan=jobs.PLAN,
    apply=jobs.APPLY,
    kinds=(jobs.STATUS, jobs.COMPARE, jobs.REINIT),
    status=status.status,
    set_up_in=replicated_clusters,
    watch=LdapWatch,
    cli=cli.app,
    api=api.router,
    pages=pages.router,
    has_page=True,
    templates=Path(__file__).parent / "templates",
)
