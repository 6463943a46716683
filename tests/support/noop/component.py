"""Noop's declaration: every hook of the component contract but the watcher's."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from clustermgr.components.contract import Component, Parts

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter


def _parts() -> Parts:
    from noop import jobs

    return Parts(
        plan=jobs.PLAN,
        apply=jobs.APPLY,
        kinds=(jobs.STATUS,),
        status=jobs.status,
        set_up_in=jobs.set_up_in,
    )


def _cli() -> typer.Typer:
    from noop.cli import app

    return app


def _api() -> APIRouter:
    from noop.api import router

    return router


def _pages() -> APIRouter:
    from noop.pages import router

    return router


COMPONENT = Component(
    name="noop",
    title="Noop",
    summary="changes nothing",
    parts=_parts,
    cli=_cli,
    cli_help="Noop: changes nothing.",
    api=_api,
    pages=_pages,
    has_page=True,
    templates=Path(__file__).parent / "templates",
)
