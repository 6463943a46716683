"""Noop's declaration: every hook of the component contract but the watcher's."""

from __future__ import annotations

from pathlib import Path

from clustermgr.components.contract import Component
from noop import api, cli, jobs, pages

COMPONENT = Component(
    name="noop",
    title="Noop",
    summary="changes nothing",
    plan=jobs.PLAN,
    apply=jobs.APPLY,
    kinds=(jobs.STATUS,),
    status=jobs.status,
    set_up_in=jobs.set_up_in,
    cli=cli.app,
    api=api.router,
    pages=pages.router,
    has_page=True,
    templates=Path(__file__).parent / "templates",
)
