"""The cache: Redis on every identity node, reached through stunnel and twemproxy."""

from __future__ import annotations

from pathlib import Path

from clustermgr.components.contract import Component, Parts, applying, loads


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


COMPONENT = Component(
    name="cache",
    title="Cache",
    summary="Redis, stunnel, twemproxy",
    parts=_parts,
    cli=loads(f"{__package__}.cli", "app"),
    cli_help="The cache: Redis behind stunnel and twemproxy.",
    api=loads(f"{__package__}.api", "router"),
    pages=loads(f"{__package__}.pages", "router"),
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
