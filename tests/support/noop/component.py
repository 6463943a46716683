"""Noop's declaration: every hook of the component contract but the watcher's."""

from __future__ import annotations

from pathlib import Path

from clustermgr.components.contract import Component, Parts, loads


def _parts() -> Parts:
    from noop import jobs

    return Parts(
        plan=jobs.PLAN,
        apply=jobs.APPLY,
        kinds=(jobs.STATUS,),
        status=jobs.status,
        set_up_in=jobs.set_up_in,
    )


COMPONENT = Component(
    name="noop",
    title="Noop",
    summary="changes nothing",
    parts=_parts,
    cli=loads(f"{__package__}.cli", "app"),
    cli_help="Noop: changes nothing.",
    api=loads(f"{__package__}.api", "router"),
    pages=loads(f"{__package__}.pages", "router"),
    has_page=True,
    templates=Path(__file__).parent / "templates",
)
