"""LDAP replication: multi-provider delta-syncrepl across the identity nodes."""

from __future__ import annotations

from pathlib import Path

from clustermgr.components.contract import Component, Parts, applying, loads


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


COMPONENT = Component(
    name="ldap",
    title="LDAP replication",
    summary="health, lag, probes",
    parts=_parts,
    cli=loads(f"{__package__}.cli", "app"),
    cli_help="LDAP multi-provider replication.",
    api=loads(f"{__package__}.api", "router"),
    pages=loads(f"{__package__}.pages", "router"),
    has_page=True,
    templates=Path(__file__).parent / "templates",
    metrics_series=("ldap_operations", "ldap_connections"),
)
