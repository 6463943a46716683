"""The install: Gluu Server on every identity node, from a package, one configuration."""

from __future__ import annotations

from pathlib import Path

from clustermgr.components.contract import Component, Parts, loads


def _parts() -> Parts:
    from clustermgr.components.install import jobs, lifecycle
    from clustermgr.components.install.store import configured_clusters

    return Parts(
        plan=jobs.PLAN,
        apply=jobs.APPLY,
        kinds=(jobs.REMOVE,),
        set_up_in=configured_clusters,
        leave=lifecycle.leave,
        effects=lifecycle.effects,
    )


COMPONENT = Component(
    name="install",
    title="Gluu Server install",
    summary="the package, setup.properties, setup",
    parts=_parts,
    cli=loads(f"{__package__}.cli", "app"),
    cli_help="Install Gluu Server on the identity nodes (one configuration for all).",
    pages=loads(f"{__package__}.pages", "router"),
    has_page=True,
    templates=Path(__file__).parent / "templates",
    # Installing needs nothing before it: it comes first, bare servers are enough.
    needs=(),
)
