"""Central logging: every server's logs read by the manager over SSH, kept and searched.

This stage puts the follower program on every server and sets slapd's log level; the
watcher's part (:mod:`~clustermgr.components.logs.watch`) keeps a follower running on
every server and stores what it reads.
"""

from __future__ import annotations

from pathlib import Path

from clustermgr.components.contract import Component, Parts, loads


def _parts() -> Parts:
    from clustermgr.components.logs import jobs
    from clustermgr.components.logs.settingsstore import applied_clusters
    from clustermgr.components.logs.watch import LogsWatch

    return Parts(plan=jobs.PLAN, apply=jobs.APPLY, set_up_in=applied_clusters, watch=LogsWatch)


COMPONENT = Component(
    name="logs",
    title="Logs",
    summary="the logs of every server, searchable",
    parts=_parts,
    cli=loads(f"{__package__}.cli", "app"),
    cli_help="Search and follow the logs of every server, as stored by the watcher.",
    api=loads(f"{__package__}.api", "router"),
    pages=loads(f"{__package__}.pages", "router"),
    has_page=True,
    templates=Path(__file__).parent / "templates",
    around="logs around this time",
    # slapd's log level is set on the directory LDAP replication configures; the load
    # balancer's access log is one of the logs read.
    needs=("ldap", "lb"),
    # A follower that cannot run on a server is what it set up broken; a source that
    # cannot be read or a server out of reach is about the servers.
    setup_alerts=("log-follower",),
)
