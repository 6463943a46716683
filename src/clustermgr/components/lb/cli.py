"""``clustermgr lb``: NGINX on the proxy in front of the identity nodes."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from clustermgr.cli.monitoring import add_monitoring_commands
from clustermgr.cli.options import Json, Profile, Yes
from clustermgr.cli.output import (
    confirm_or_exit,
    emit_json,
    print_event,
    run_async,
    say,
    show,
)
from clustermgr.cli.reports import finish_report, finish_status
from clustermgr.cli.session import cli_actor, manager
from clustermgr.cli.table import UNKNOWN, show_table
from clustermgr.components.lb import apply as lb
from clustermgr.components.lb import ops as lb_ops
from clustermgr.components.lb import settingsstore as lb_settings
from clustermgr.components.lb.settings import (
    DEFAULT_LOCATIONS,
    SCIM_CAVEAT,
    CertificateSource,
    Upstream,
)
from clustermgr.components.lb.status import status as lb_status
from clustermgr.errors import InvalidInput
from clustermgr.plan.events import ignore

app = typer.Typer(no_args_is_help=True)
add_monitoring_commands(app, "lb")


@app.command()
@run_async()
async def plan(cluster: str, as_json: Json = False, profile: Profile = False) -> None:
    """Show what setting up the load balancer would change on the proxy."""
    async with manager() as mgr:
        report = await lb.apply(mgr, cluster, dry_run=True, emit=ignore if as_json else print_event)
    finish_report(report, as_json, profile=profile)


@app.command()
@run_async()
async def apply(
    cluster: str, yes: Yes = False, as_json: Json = False, profile: Profile = False
) -> None:
    """Install and configure NGINX on the proxy (validated with nginx -t, reloaded)."""
    confirm_or_exit(yes, as_json, "Set up the load balancer?")
    async with manager() as mgr:
        report = await lb.apply(
            mgr, cluster, dry_run=False, actor=cli_actor(), emit=ignore if as_json else print_event
        )
    finish_report(report, as_json, profile=profile)


@app.command(help=f"Choose the upstream that serves a location. {SCIM_CAVEAT}")
@run_async()
async def location(
    cluster: str,
    path: Annotated[str, typer.Argument(help=f"One of: {', '.join(DEFAULT_LOCATIONS)}.")],
    upstream: Annotated[Upstream, typer.Argument(help="backend (round robin) or backend_id.")],
    as_json: Json = False,
) -> None:
    """Takes effect at the next `lb apply`."""
    async with manager() as mgr:
        changed = await lb_settings.change(
            mgr, cluster, {"locations": {path: upstream}}, actor=cli_actor()
        )
    locations = changed.locations
    if as_json:
        emit_json({"locations": {p: u.value for p, u in locations.items()}})
        return
    if DEFAULT_LOCATIONS[path] is not upstream:
        say(f"[yellow]note:[/] {escape(SCIM_CAVEAT)}")
    show(f"{escape(path)} -> {upstream.value}")
    say(f"takes effect at the next `clustermgr lb apply {escape(cluster)}`")


@app.command()
@run_async()
async def status(cluster: str, as_json: Json = False) -> None:
    """Each backend (up, down, drained; response time; last check) and NGINX's counters.

    Exit status 1 when a backend is down or NGINX cannot be read.
    """
    async with manager() as mgr:
        report = await lb_status(mgr, cluster)
    finish_status(report, as_json, _show_status)


def _show_status(result: dict[str, Any]) -> None:
    if not result["set_up"]:
        show(f"[red]no load balancer set up on {escape(result['proxy'])}[/]")
        return
    show(f"[bold]{escape(result['proxy'])}[/] issuer {escape(str(result['issuer']))}")
    colour = {"up": "green", "down": "red", "drained": "yellow"}
    show_table(
        ["PROXY", "BACKEND", "STATE", "HEALTH CHECK", "ISSUER", "ERROR"],
        [
            [
                escape(result["proxy"]),
                escape(b["host"]),
                f"[{colour[b['state']]}]{b['state']}[/]",
                UNKNOWN if b["seconds"] is None else f"{b['seconds'] * 1000:.0f} ms",
                escape(b.get("issuer") or UNKNOWN),
                escape(b["error"]),
            ]
            for b in result["backends"]
        ],
    )
    nginx = result["nginx"]
    if "stub_status" in nginx:
        counters = ", ".join(f"{escape(str(k))} {v}" for k, v in nginx["stub_status"].items())
        show(f"nginx: {counters}")
    if "error" in nginx:
        show(f"[red]nginx: {escape(str(nginx['error']))}[/]")
    for warning in result["warnings"]:
        show(f"[yellow]warning[/] {escape(warning)}")
    for alert in result["open_alerts"]:
        show(f"[red]alert[/] {escape(alert['key'])}: {escape(alert['message'])}")


Node = Annotated[str, typer.Argument(help="The identity node (hostname).")]


@app.command()
@run_async()
async def drain(cluster: str, node: Node, yes: Yes = False, as_json: Json = False) -> None:
    """Take a node out of the load balancer for maintenance (kept until undrain)."""
    confirm_or_exit(yes, as_json, f"Drain {node}?")
    await _rotation(cluster, node, drained=True, as_json=as_json)


@app.command()
@run_async()
async def undrain(cluster: str, node: Node, yes: Yes = False, as_json: Json = False) -> None:
    """Put a drained node back (it serves once its health check passes)."""
    confirm_or_exit(yes, as_json, f"Put {node} back?")
    await _rotation(cluster, node, drained=False, as_json=as_json)


async def _rotation(cluster: str, node: str, *, drained: bool, as_json: bool) -> None:
    async with manager() as mgr:
        report = await lb_ops.set_rotation(
            mgr,
            cluster,
            node,
            drained=drained,
            actor=cli_actor(),
            emit=ignore if as_json else print_event,
        )
    finish_report(report, as_json)


@app.command("rolling-restart")
@run_async()
async def rolling_restart(cluster: str, yes: Yes = False, as_json: Json = False) -> None:
    """Restart the identity app one node at a time: drain, restart, wait for health, undrain."""
    confirm_or_exit(yes, as_json, "Restart the identity app on every node, one at a time?")
    async with manager() as mgr:
        report = await lb_ops.rolling_restart(
            mgr, cluster, actor=cli_actor(), emit=ignore if as_json else print_event
        )
    finish_report(report, as_json)


@app.command()
@run_async()
async def certificate(
    cluster: str,
    cert_file: Annotated[
        str | None, typer.Option(help="Your certificate (chain), a path on the proxy.")
    ] = None,
    key_file: Annotated[str | None, typer.Option(help="Its key, a path on the proxy.")] = None,
    ca: Annotated[bool, typer.Option("--ca", help="Have the cluster CA issue it.")] = False,
    as_json: Json = False,
) -> None:
    """Where the HTTPS certificate comes from: the cluster CA, or files you placed on the
    proxy. Takes effect at the next `lb apply` (validated there with nginx -t)."""
    if ca and (cert_file or key_file):
        raise InvalidInput("give either --ca, or both --cert-file and --key-file")
    source = CertificateSource.CA if ca else CertificateSource.IMPORTED
    update = {"certificate": source, "cert_file": cert_file, "key_file": key_file}
    async with manager() as mgr:
        await lb_settings.change(mgr, cluster, update, actor=cli_actor())
    if as_json:
        emit_json({"certificate": source.value, "cert_file": cert_file, "key_file": key_file})
    else:
        show(f"certificate: {source.value}")
        say(f"takes effect at the next `clustermgr lb apply {escape(cluster)}`")
