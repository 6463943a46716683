"""The ``clustermgr`` command loads a group only to run it: its help imports no group, and
a command imports neither the web app nor what it does not use (checked in a fresh
interpreter, through ``sys.modules``; nothing here is timed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner

from clustermgr.cli.main import commands, make_cli
from clustermgr.components import registry

#: The web app and what only it, the database or SSH need.
WEB = ("fastapi", "starlette", "jinja2", "clustermgr.web")
HEAVY = (*WEB, "sqlalchemy", "alembic", "asyncssh")


def imported_by(code: str, data_dir: Path) -> list[str]:
    """The top packages (and ``clustermgr.web``) ``code`` leaves imported, from a fresh
    interpreter; ``code`` runs the command it builds in ``app``."""
    script = (
        "import json, sys\n"
        f"{code}\n"
        "names = {m.split('.')[0] for m in sys.modules} | "
        "{'clustermgr.web' for m in sys.modules if m.startswith('clustermgr.web')}\n"
        "print(json.dumps(sorted(names)))\n"
    )
    env = {**os.environ, "CLUSTERMGR_DATA_DIR": str(data_dir), "COLUMNS": "120"}
    env.pop("CLUSTERMGR_DATABASE_URL", None)
    ran = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    names: list[str] = json.loads(ran.stdout.splitlines()[-1])
    return names


def run_cli(*args: str) -> str:
    """Builds the command and runs it on ``args`` (its output goes to stdout)."""
    return (
        "from clustermgr.cli.main import app\n"
        "try:\n"
        f"    app({list(args)!r})\n"
        "except SystemExit as stop:\n"
        "    assert not stop.code, stop.code\n"
    )


def test_the_help_imports_no_group(tmp_path: Path) -> None:
    names = imported_by(run_cli("--help"), tmp_path)
    assert set(names).isdisjoint(HEAVY), sorted(set(names) & set(HEAVY))


def test_a_reading_command_imports_no_web_app_no_ssh_and_no_migrations(tmp_path: Path) -> None:
    first = imported_by(run_cli("server", "list", "--json"), tmp_path)
    assert "alembic" in first, "the first command creates the database"
    names = imported_by(run_cli("server", "list", "--json"), tmp_path)
    assert "sqlalchemy" in names, "the command ran and read the database"
    unused = {*WEB, "asyncssh", "alembic"}
    assert unused.isdisjoint(names), sorted(unused & set(names))


def test_a_component_group_imports_no_web_app(tmp_path: Path) -> None:
    names = imported_by(run_cli("ldap", "--help"), tmp_path)
    assert set(names).isdisjoint(WEB), sorted(set(names) & set(WEB))


def test_the_help_lists_every_group_with_its_help() -> None:
    ran = CliRunner().invoke(make_cli(registry.COMPONENTS), ["--help"], env={"COLUMNS": "200"})
    assert ran.exit_code == 0, ran.output
    listed = {row.split()[0]: row for row in _rows(ran.output)}
    for entry in commands(registry.COMPONENTS):
        assert entry.help and entry.help in listed[entry.name], entry.name
    for component in registry.COMPONENTS:
        assert (component.cli is not None) == (component.name in listed), component.name


def _rows(output: str) -> list[str]:
    """The lines of the help's boxes, without the box."""
    return [line.strip("│ ") for line in output.splitlines() if line.startswith("│ ")]


def test_each_listed_help_is_the_loaded_commands_own() -> None:
    """The help listed without loading is the one the loaded command shows."""
    root = typer.main.get_command(make_cli(registry.COMPONENTS))
    assert isinstance(root, typer.core.TyperGroup)
    ctx = typer.Context(root)
    for entry in commands(registry.COMPONENTS):
        loaded = root.get_command(ctx, entry.name)
        assert loaded is not None and loaded.name == entry.name
        assert loaded.get_short_help_str(limit=500) == entry.help, entry.name


def test_a_loaded_group_runs() -> None:
    ran = CliRunner().invoke(make_cli(registry.COMPONENTS), ["lb", "--help"])
    assert ran.exit_code == 0, ran.output
    assert "The load balancer (NGINX on the proxy)." in ran.output
    assert "drain" in ran.output


def test_an_unknown_command_is_refused_with_suggestions() -> None:
    ran = CliRunner().invoke(make_cli(registry.COMPONENTS), ["servr", "list"])
    assert ran.exit_code == 2
    assert "No such command 'servr'" in ran.output
    assert "'server'" in ran.output
