"""``clustermgr node``: add an identity node to a running cluster, or take one out.

``node add`` puts the server in the inventory as ``joining`` (its host key confirmed
as ``server add`` does) and runs the ``node-add`` job in this process; given a server
already joining, it resumes.  ``node remove`` shows what would be lost, asks, and runs
``node-remove``.  The components' parts come from the registry (the entry point hands
them over as the context's object).  Progress goes to stderr, the result to stdout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from clustermgr.cli.options import Json, Yes
from clustermgr.cli.output import confirm_or_exit, emit_json, print_event, run_async, say, show
from clustermgr.cli.reports import show_report
from clustermgr.cli.servers import add_confirmed, read_key
from clustermgr.cli.session import cli_actor, manager
from clustermgr.cli.stages import DeployStages
from clustermgr.core.access import get_cluster
from clustermgr.errors import InvalidInput
from clustermgr.inventory.schemas import NodeState, ServerSpec
from clustermgr.jobs.kinds import JobContext
from clustermgr.jobs.lifecycle import (
    Lifecycle,
    LifecycleReport,
    NodeAddParams,
    NodeRemoveParams,
)
from clustermgr.plan.events import ignore
from clustermgr.plan.model import ApplyReport
from clustermgr.topology import Role

app = typer.Typer(no_args_is_help=True)


def _lifecycle(ctx: typer.Context) -> Lifecycle:
    found = ctx.find_object(DeployStages)
    if found is None or found.nodes is None:
        return Lifecycle(())
    return found.nodes()


@app.command("add")
@run_async()
async def add(
    ctx: typer.Context,
    cluster: Annotated[str, typer.Argument(help="The cluster.")],
    hostname: Annotated[str, typer.Argument(help="The new node's DNS name (FQDN).")],
    address: Annotated[
        str | None, typer.Option(help="IP or name to dial (default: hostname).")
    ] = None,
    key: Annotated[
        Path | None,
        typer.Option("--key", help="Private key file to log in with (a new server)."),
    ] = None,
    port: Annotated[int, typer.Option("--port", help="SSH port.")] = 22,
    user: Annotated[str, typer.Option("--user", help="SSH user: root, or one with sudo.")] = "root",
    passphrase_env: Annotated[
        str | None, typer.Option(help="Environment variable holding the key's passphrase.")
    ] = None,
    fingerprint: Annotated[
        str | None, typer.Option(help="Trust this host key fingerprint (SHA256:...).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Add an identity node to a running cluster: every component sets it up, and the
    load balancer sends it requests once its health check passes.  A node already
    joining (an earlier run stopped) is taken up where it stopped."""
    spec = ServerSpec.parse(
        cluster=cluster,
        hostname=hostname,
        address=address,
        role=Role.IDENTITY.value,
        ssh_port=port,
        ssh_user=user,
        state=NodeState.JOINING.value,
    )
    nodes = _lifecycle(ctx)
    progress = ignore if as_json else print_event
    async with manager() as mgr:
        view = await get_cluster(mgr, cluster)
        known = next((s for s in view.servers if s.hostname == spec.hostname), None)
        if known is None:
            if key is None:
                raise InvalidInput(
                    f"{spec.hostname} is not in cluster {cluster!r} yet",
                    hint="give --key with the private key to log in with",
                )
            ssh_key = read_key(key, passphrase_env, as_json)
            await add_confirmed(mgr, spec, ssh_key, fingerprint, as_json)
            say(f"added {escape(spec.hostname)} to cluster {escape(cluster)} as joining")
        else:
            say(f"{escape(spec.hostname)} is {known.state.value}: taking it up where it stopped")
        job = JobContext(
            mgr,
            cluster,
            NodeAddParams(node=spec.hostname),
            progress,
            lambda: False,
            actor=cli_actor(),
        )
        report = await nodes.add(job)
    _finish(report, as_json)


@app.command("remove")
@run_async()
async def remove(
    ctx: typer.Context,
    cluster: Annotated[str, typer.Argument(help="The cluster.")],
    hostname: Annotated[str, typer.Argument(help="The node to take out.")],
    uninstall: Annotated[
        bool,
        typer.Option("--uninstall", help="Also remove Gluu Server and its data from it."),
    ] = False,
    yes: Yes = False,
    as_json: Json = False,
) -> None:
    """Take an identity node out of the cluster: the balancer first, then the cache and
    replication let go of it, then it leaves the inventory.  A node that does not answer
    is taken out without being touched."""
    nodes = _lifecycle(ctx)
    progress = ignore if as_json else print_event
    async with manager() as mgr:
        lost = await nodes.removal_effects(mgr, cluster, hostname, uninstall=uninstall)
        if not as_json:
            say(f"taking {escape(hostname)} out of cluster {escape(cluster)} loses:")
            for line in lost or ["nothing held only there"]:
                say(f"  - {escape(line)}")
        confirm_or_exit(
            yes,
            as_json,
            f"Take {hostname} out of cluster {cluster}?",
            change=f"{hostname} would leave cluster {cluster}",
        )
        job = JobContext(
            mgr,
            cluster,
            NodeRemoveParams(node=hostname, uninstall=uninstall),
            progress,
            lambda: False,
            actor=cli_actor(),
        )
        report = await nodes.remove(job)
    _finish(report, as_json)


def _finish(report: LifecycleReport, as_json: bool) -> None:
    if as_json:
        emit_json(report.as_dict())
    else:
        for note in report.notes:
            show(escape(note))
        if report.problem:
            show(f"[bold red]{escape(report.problem)}[/]")
        for part in report.parts:
            note = f" [dim]({escape(part.note)})[/]" if part.note else ""
            show(f"[bold]{part.phase} {escape(part.title)}[/]: {part.status.value}{note}")
            if isinstance(part.report, ApplyReport):
                show_report(part.report, show)
        state = report.state.value if report.state is not None else "out of the inventory"
        verdict = "done" if report.ok else "stopped"
        show(f"[bold]{escape(report.node)}: {verdict}; now {state}[/]")
    if not report.ok:
        raise typer.Exit(1)
