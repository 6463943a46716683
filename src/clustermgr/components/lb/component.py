"""The load balancer: NGINX on the proxy in front of the identity nodes."""

from __future__ import annotations

from pathlib import Path

from clustermgr.components.contract import Component, Parts, loads


def _parts() -> Parts:
    from clustermgr.components.lb import jobs, lifecycle
    from clustermgr.components.lb.gauges import gauges
    from clustermgr.components.lb.settingsstore import applied_clusters
    from clustermgr.components.lb.status import status
    from clustermgr.components.lb.watch import LbWatch

    return Parts(
        plan=jobs.PLAN,
        apply=jobs.APPLY,
        kinds=(jobs.STATUS, jobs.DRAIN, jobs.UNDRAIN, jobs.ROLLING_RESTART),
        status=status,
        set_up_in=applied_clusters,
        watch=LbWatch,
        gauges=gauges,
        admit=lifecycle.admit,
        leave=lifecycle.leave,
    )


COMPONENT = Component(
    name="lb",
    title="Load balancer",
    summary="backends, drains, restarts",
    parts=_parts,
    cli=loads(f"{__package__}.cli", "app"),
    cli_help="The load balancer (NGINX on the proxy).",
    api=loads(f"{__package__}.api", "router"),
    pages=loads(f"{__package__}.pages", "router"),
    has_page=True,
    templates=Path(__file__).parent / "templates",
    metrics_series=("nginx_requests", "nginx_connections"),
    # NGINX and the nodes' web certificates build on the base preparation alone: the
    # deploy sets them up beside LDAP replication and the cache.
    needs=("base",),
)
