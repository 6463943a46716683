"""``clustermgr db``: the schema of the inventory database."""

from __future__ import annotations

import typer
from rich.markup import escape

from clustermgr.cli.options import Json
from clustermgr.cli.output import emit_json, run_async, show
from clustermgr.core.manager import Manager
from clustermgr.db.engine import describe_url
from clustermgr.db.migrations import head_revision

app = typer.Typer(no_args_is_help=True)


@app.command()
@run_async()
async def upgrade(as_json: Json = False) -> None:
    """Bring the database schema up to this version's (back it up first)."""
    manager = await Manager.open(migrate=False)
    try:
        await manager.db.upgrade()
        revision = await manager.db.current_revision()
    finally:
        await manager.close()
    if as_json:
        emit_json({"revision": revision})
    else:
        show(f"database {escape(describe_url(manager.db.url))} is at revision {revision}")


@app.command()
@run_async()
async def status(as_json: Json = False) -> None:
    """Show the database URL (without password) and its schema revision."""
    manager = await Manager.open(migrate=False)
    try:
        revision = await manager.db.current_revision()
    finally:
        await manager.close()
    data = {"url": describe_url(manager.db.url), "revision": revision, "head": head_revision()}
    if as_json:
        emit_json(data)
    else:
        state = "up to date" if revision == data["head"] else "needs `clustermgr db upgrade`"
        show(f"{escape(str(data['url']))}: revision {revision} ({state})")
