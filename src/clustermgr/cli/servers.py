"""``clustermgr server``: add, list, remove, check servers, and trust a new host key."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from clustermgr.cli.options import ClusterOpt, Json, Yes
from clustermgr.cli.output import confirm_or_exit, emit_json, interactive, run_async, say, show
from clustermgr.cli.session import cli_actor, manager
from clustermgr.cli.table import show_table
from clustermgr.core.access import open_access
from clustermgr.core.manager import Manager
from clustermgr.errors import HostKeyUnknown, InvalidInput
from clustermgr.inventory.schemas import ServerSpec, ServerView
from clustermgr.redact import Secret
from clustermgr.services import preflight, servers
from clustermgr.services.preflight import Status
from clustermgr.services.reachability import Matrix, State

app = typer.Typer(no_args_is_help=True)

STATUS_STYLE = {Status.PASS: "green", Status.WARN: "yellow", Status.FAIL: "bold red"}
STATE_STYLE = {
    State.OPEN: "green",
    State.REFUSED: "bold red",
    State.FILTERED: "bold red",
    State.ERROR: "yellow",
}


def read_key(path: Path, passphrase_env: str | None, as_json: bool) -> servers.SshKeyInput:
    try:
        text = path.read_text()
    except OSError as exc:
        raise InvalidInput(f"cannot read SSH key file {path}: {exc.strerror}") from None
    passphrase: Secret | None = None
    if passphrase_env:
        value = os.environ.get(passphrase_env)
        if value is None:
            raise InvalidInput(f"environment variable {passphrase_env} is not set")
        passphrase = Secret(value, label="passphrase")
    elif "ENCRYPTED" in text or _needs_passphrase(text):
        if not interactive(as_json):
            raise InvalidInput(
                f"SSH key {path} is protected by a passphrase",
                hint="give --passphrase-env VAR with the passphrase in that variable",
            )
        passphrase = Secret(typer.prompt("Passphrase for the SSH key", hide_input=True))
    return servers.SshKeyInput(Secret(text, label="ssh-key"), passphrase)


def _needs_passphrase(text: str) -> bool:
    try:
        servers.SshKeyInput(Secret(text, label="ssh-key")).fingerprint()
    except InvalidInput:
        return True
    return False


async def add_confirmed(
    mgr: Manager,
    spec: ServerSpec,
    key: servers.SshKeyInput,
    fingerprint: str | None,
    as_json: bool,
) -> ServerView:
    """Add the server, pinning the host key ``fingerprint`` names; without one, a person
    at a terminal compares the key the server presents and confirms it."""
    try:
        return await servers.add_server(
            mgr, spec, key, actor=cli_actor(), trusted_fingerprint=fingerprint
        )
    except HostKeyUnknown as unknown:
        if not interactive(as_json):
            raise
        say(
            f"{escape(spec.hostname)} presents host key [bold]{unknown.algorithm} "
            f"{unknown.fingerprint}[/]"
        )
        say("[dim]compare with: ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on the server[/]")
        if not typer.confirm("Trust this host key?", default=False):
            raise
        return await servers.add_server(
            mgr, spec, key, actor=cli_actor(), trusted_fingerprint=unknown.fingerprint
        )


@app.command("add")
@run_async()
async def add(
    hostname: Annotated[str, typer.Argument(help="The server's DNS name (FQDN).")],
    cluster: ClusterOpt,
    role: Annotated[str, typer.Option(help="identity (a Gluu node) or proxy.")],
    ssh_key: Annotated[Path, typer.Option("--ssh-key", help="Private key file to log in with.")],
    address: Annotated[
        str | None, typer.Option(help="IP or name to dial (default: hostname).")
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
    """Add a server: check its host key, log in once, then store it."""
    spec = ServerSpec.parse(
        cluster=cluster, hostname=hostname, address=address, role=role, ssh_port=port, ssh_user=user
    )
    key = read_key(ssh_key, passphrase_env, as_json)
    async with manager() as mgr:
        view = await add_confirmed(mgr, spec, key, fingerprint, as_json)
    if as_json:
        emit_json(view.as_dict())
    else:
        keys = ", ".join(str(k) for k in view.host_keys)
        show(
            f"added {escape(view.hostname)} ({view.role.value}) to cluster "
            f"{escape(view.cluster)}; pinned {escape(keys)}"
        )


@app.command("list")
@run_async()
async def list_(
    cluster: Annotated[str | None, typer.Option("--cluster", "-c")] = None,
    as_json: Json = False,
) -> None:
    """List servers, by cluster."""
    async with manager() as mgr:
        views = await servers.list_clusters(mgr)
    if cluster:
        views = [c for c in views if c.name == cluster]
    if as_json:
        emit_json([c.as_dict() for c in views])
        return
    rows = [
        [
            escape(view.name),
            escape(s.hostname),
            s.role.value,
            s.state.value,
            escape(f"{s.ssh_user}@{s.address}:{s.ssh_port}"),
        ]
        for view in views
        for s in view.servers
    ]
    if rows:
        show_table(["CLUSTER", "SERVER", "ROLE", "STATE", "SSH"], rows)
    else:
        say("no servers yet: add one with `clustermgr server add`")


@app.command("remove")
@run_async()
async def remove(
    hostname: str,
    cluster: ClusterOpt,
    yes: Yes = False,
    as_json: Json = False,
) -> None:
    """Remove a server from the inventory (nothing is changed on the server)."""
    confirm_or_exit(
        yes,
        as_json,
        f"Remove {hostname} from cluster {cluster}?",
        change="removing a server needs confirmation",
    )
    async with manager() as mgr:
        await servers.remove_server(mgr, cluster, hostname, actor=cli_actor())
    if as_json:
        emit_json({"removed": hostname, "cluster": cluster})
    else:
        show(f"removed {escape(hostname)} from cluster {escape(cluster)}")


@app.command("trust")
@run_async()
async def trust(
    hostname: Annotated[str, typer.Argument(help="The server whose new host key to trust.")],
    cluster: ClusterOpt,
    fingerprint: Annotated[
        str | None,
        typer.Option(help="The new key's fingerprint (SHA256:...), as the server itself shows it."),
    ] = None,
    yes: Yes = False,
    as_json: Json = False,
) -> None:
    """Trust the host key a server presents now (after a reinstall), instead of the pinned one."""
    if fingerprint is None and not interactive(as_json):
        raise InvalidInput(
            "trusting a new host key needs its fingerprint",
            hint="compare it with the server's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) "
            "and give --fingerprint SHA256:...",
        )
    async with manager() as mgr:
        check = await servers.check_host_key(mgr, cluster, hostname)
        for key in check.server.host_keys:
            say(f"pinned:           {key.algorithm} {key.fingerprint}")
        say(f"server presents:  [bold]{check.presented.algorithm} {check.presented.fingerprint}[/]")
        if check.trusted:
            done = f"{escape(hostname)} presents a pinned key: nothing to trust"
        else:
            if fingerprint is None:
                say(
                    "[dim]compare with: ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on the server[/]"
                )
            if fingerprint is None or fingerprint.strip() == check.presented.fingerprint:
                confirm_or_exit(
                    yes,
                    as_json,
                    f"Trust {check.presented.fingerprint} for {hostname}?",
                    change="trusting a new host key needs confirmation",
                )
            check = await servers.trust_host_key(
                mgr,
                cluster,
                hostname,
                fingerprint or check.presented.fingerprint,
                actor=cli_actor(),
            )
            done = f"trusted {check.presented} for {escape(hostname)} in cluster {escape(cluster)}"
    if as_json:
        emit_json(check.as_dict())
    else:
        show(done)


@app.command("check")
@run_async()
async def check(
    cluster: ClusterOpt,
    hostnames: Annotated[list[str] | None, typer.Argument(help="Servers (default: all).")] = None,
    network: Annotated[
        bool,
        typer.Option(
            "--network/--no-network",
            help="Also try every connection the members need (the reachability matrix).",
        ),
    ] = True,
    as_json: Json = False,
) -> None:
    """Preflight: SSH login, root or sudo, OS, ports, disk, memory, clock skew, the network."""
    async with manager() as mgr:
        access = await open_access(mgr, cluster, hostnames or ())
        async with access:
            servers_ = list(access.servers.values())
            report = await preflight.check_servers(access, servers_, network=network)
    if as_json:
        emit_json(report.as_dict())
    else:
        show_table(
            ["SERVER", "STATUS", "CHECK", "DETAIL"],
            [
                [
                    escape(c.host),
                    f"[{STATUS_STYLE[c.status]}]{c.status.value}[/]",
                    escape(c.name),
                    escape(c.detail),
                ]
                for c in report.checks
            ],
        )
        if report.network is not None:
            show("")
            _show_matrix(report.network)
        show("[green]preflight passed[/]" if report.ok else "[bold red]preflight failed[/]")
    if not report.ok:
        raise typer.Exit(1)


def _show_matrix(matrix: Matrix) -> None:
    """One row per pair; a blocked pair's last column is the rule that would open it."""
    show_table(
        ["SOURCE", "DESTINATION", "PORT", "STATE", "DETAIL OR RULE"],
        [
            [
                escape(r.pair.source),
                escape(r.pair.destination),
                str(r.pair.port),
                f"[{STATE_STYLE[r.state]}]{r.state.value}[/]",
                escape(f"on {r.pair.destination}: {r.rule}" if r.rule else r.detail),
            ]
            for r in matrix.results
        ],
    )
