"""Monitoring: the field's standard exporters on every server, bound to 127.0.0.1, and
the manager's scrape of them through each server's SSH connection."""

from __future__ import annotations

from clustermgr.components.contract import Component, Parts


def _parts() -> Parts:
    from clustermgr.components.metrics import jobs

    return Parts(plan=jobs.PLAN, apply=jobs.APPLY)


COMPONENT = Component(
    name="metrics",
    title="Monitoring",
    summary="exporters, metrics of every server and service",
    parts=_parts,
    # The exporters read what the stages before them set up: slapd's cn=monitor builds on
    # the directory LDAP replication configures, the Redis exporter needs the Redis
    # password the cache makes, the NGINX exporter reads the stub_status the load
    # balancer serves (it gives up when that does not answer at its start).
    needs=("ldap", "cache", "lb"),
)
