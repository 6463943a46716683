"""``clustermgr lab``: a cluster's servers on this machine, with faults on demand."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer
from rich.markup import escape

from clustermgr.cli.options import Json
from clustermgr.cli.output import emit_json, run_async, say, show
from clustermgr.cli.table import show_table
from clustermgr.lab import service
from clustermgr.lab.config import LabConfig
from clustermgr.lab.gluu.package import GLUU_VERSION
from clustermgr.settings import Settings

app = typer.Typer(no_args_is_help=True)

Host = Annotated[str, typer.Argument(help="Lab host: idp1, idp2, proxy1... (or its FQDN).")]


def _config() -> tuple[LabConfig, Settings]:
    settings = Settings()
    return service.load_config(service.default_state_dir(settings)), settings


def _show(rows: list[service.HostStatus], as_json: bool) -> None:
    if as_json:
        emit_json([r.as_dict() for r in rows])
        return
    style = {"running": "green", "stopped": "yellow", "absent": "dim"}
    show_table(
        ["HOST", "ROLE", "ADDRESS", "NAME", "STATE", "NETWORK"],
        [
            [
                escape(r.name),
                escape(r.role),
                escape(r.address),
                escape(r.fqdn),
                f"[{style[r.state.value]}]{r.state.value}[/]",
                "[red]partitioned[/]" if r.partitioned else "connected",
            ]
            for r in rows
        ],
    )


@app.command()
@run_async()
async def up(
    nodes: Annotated[int, typer.Option(help="Identity nodes (plus one proxy).", min=1, max=50)] = 2,
    as_json: Json = False,
) -> None:
    """Create and boot the lab (harmless when it runs), register it as cluster `lab`.

    The servers are bare: sshd, nothing of Gluu.  The lab also serves a signed apt
    repository with its `gluu-server` package, which clustermgr's install takes.
    """
    config, settings = _config()
    config = dataclasses.replace(config, identity_nodes=max(nodes, config.identity_nodes))
    rows = await service.up(config, settings, say=say if not as_json else service.quiet)
    _show(rows, as_json)
    if not as_json:
        repo = config.apt_repo
        say(
            f"log in: ssh -i {config.ssh_key} root@{rows[0].address}  "
            f"or  clustermgr lab exec {rows[0].name} -- bash"
        )
        say(
            f"install Gluu Server from the lab's repository: {repo.url} "
            f"(suite {repo.suite}, component {repo.component}, version {GLUU_VERSION}, "
            f"signing key {repo.public_key})"
        )


@app.command()
@run_async()
async def down(as_json: Json = False) -> None:
    """Stop every host and remove the lab: namespaces, links, disks, inventory entry."""
    config, settings = _config()
    removed = await service.down(config, settings, say=say if not as_json else service.quiet)
    if as_json:
        emit_json({"removed": removed})
    elif not removed:
        say("no lab to remove")


@app.command()
@run_async()
async def status(as_json: Json = False) -> None:
    """Show each host: role, address, running or stopped, partitioned."""
    config, _ = _config()
    _show(service.status(config), as_json)


@app.command()
@run_async()
async def stop(
    host: Host,
    kill: Annotated[
        bool, typer.Option("--kill", help="Power cut (SIGKILL) instead of a clean shutdown.")
    ] = False,
) -> None:
    """Stop a host, keeping its disk."""
    config, _ = _config()
    stopped = service.stop(config, host, power_cut=kill)
    show(f"{escape(stopped.name)}: {'power cut' if kill else 'shut down'}")


@app.command()
@run_async()
async def start(host: Host) -> None:
    """Boot a stopped host again on its disk; its enabled services come up."""
    config, settings = _config()
    started = service.start(config, settings, host)
    show(f"{escape(started.name)}: running")


@app.command()
@run_async()
async def partition(host: Host) -> None:
    """Cut a host off the network (its cable pulled) until `heal`."""
    config, _ = _config()
    show(f"{escape(service.partition(config, host).name)}: partitioned")


@app.command()
@run_async()
async def heal(host: Host) -> None:
    """Reconnect a partitioned host."""
    config, _ = _config()
    show(f"{escape(service.heal(config, host).name)}: connected")


@app.command("exec", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def exec_(ctx: typer.Context, host: Host) -> None:
    """Run a command inside a host: clustermgr lab exec idp1 -- ps -ef"""
    config, _ = _config()
    argv = list(ctx.args) or ["/bin/bash", "-l"]
    raise typer.Exit(service.exec_in(config, host, argv))
