"""``clustermgr ldap``: plan, apply and watch OpenLDAP multi-provider replication."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from clustermgr.cli.monitoring import add_monitoring_commands
from clustermgr.cli.options import Json, Profile, Yes
from clustermgr.cli.output import (
    APPLYING,
    EXIT_FAILED,
    confirm_or_exit,
    emit_json,
    interactive,
    print_event,
    run_async,
    say,
    show,
)
from clustermgr.cli.reports import finish_report
from clustermgr.cli.session import cli_actor, manager
from clustermgr.cli.table import UNKNOWN, show_table
from clustermgr.components.ldap import apply as ldap
from clustermgr.components.ldap import repair as ldap_repair
from clustermgr.components.ldap import status as ldap_status
from clustermgr.components.ldap.compare import Comparison
from clustermgr.plan.events import ignore
from clustermgr.words import count

app = typer.Typer(no_args_is_help=True)
add_monitoring_commands(app, "ldap")


@app.command()
@run_async()
async def plan(cluster: str, as_json: Json = False, profile: Profile = False) -> None:
    """Show what replication set-up would change on every identity node."""
    async with manager() as mgr:
        report = await ldap.apply(
            mgr, cluster, dry_run=True, emit=ignore if as_json else print_event
        )
    finish_report(report, as_json, profile=profile)


@app.command()
@run_async()
async def apply(
    cluster: str, yes: Yes = False, as_json: Json = False, profile: Profile = False
) -> None:
    """Set up replication: every identity node replicates from every other."""
    confirm_or_exit(yes, as_json, "Set up LDAP replication?", change=APPLYING)
    async with manager() as mgr:
        report = await ldap.apply(
            mgr, cluster, dry_run=False, actor=cli_actor(), emit=ignore if as_json else print_event
        )
    finish_report(report, as_json, profile=profile)


@app.command()
@run_async()
async def status(cluster: str, as_json: Json = False) -> None:
    """contextCSN per node and server id, and a probe write's replication time."""
    async with manager() as mgr:
        result = await ldap_status.status(mgr, cluster)
    if as_json:
        emit_json(result.as_dict())
    else:
        show_status(result)
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)


def show_status(result: ldap_status.LdapStatus) -> None:
    """Each node's contextCSN per server id, each pair's lag, the probe and the problems."""
    show_table(
        ["NODE", "SERVER ID", "CONTEXTCSN", "REPLICATOR BINDS"],
        [
            [escape(node.host), escape(str(sid)), escape(value), str(node.replicator_binds)]
            for node in result.nodes
            for sid, value in sorted(node.context_csn.items()) or [(UNKNOWN, UNKNOWN)]
        ],
    )
    for node in result.nodes:
        if node.error:
            show(f"[bold]{escape(node.host)}[/] [red]{escape(node.error)}[/]")
    if result.pairs:
        show("")
        show_table(
            ["NODE", "FROM", "STATE", "LAG"],
            [
                [
                    escape(pair.host),
                    escape(pair.peer),
                    "[green]caught up[/]" if pair.caught_up else "[red]behind[/]",
                    UNKNOWN if pair.lag_seconds is None else f"{pair.lag_seconds} s",
                ]
                for pair in result.pairs
            ],
        )
    show("")
    equal = "yes" if result.context_csn_equal else "[red]no[/]"
    show(f"contextCSN equal on every node: {equal}")
    probe = "not measured" if result.probe_seconds is None else f"{result.probe_seconds} s"
    show(f"probe replicated everywhere in: {probe}")
    for problem in result.problems:
        show(f"[red]problem:[/] {escape(problem)}")


@app.command()
@run_async()
async def compare(cluster: str, as_json: Json = False) -> None:
    """Compare the directory data of every identity node (counts and digests per subtree).

    Exit status 1 when the data differs or a node cannot be read.
    """
    async with manager() as mgr:
        result = await ldap_repair.compare(mgr, cluster)
    if as_json:
        emit_json(result.as_dict())
    else:
        show_comparison(result)
    if not result.identical:
        raise typer.Exit(EXIT_FAILED)


@app.command()
@run_async()
async def reinit(
    cluster: str,
    node: Annotated[str, typer.Argument(help="The identity node to re-initialise.")],
    source: Annotated[str, typer.Option("--from", help="The healthy peer to copy from.")],
    yes: Yes = False,
    as_json: Json = False,
) -> None:
    """Replace NODE's directory with a copy of the healthy peer's (--from PEER).

    Every change on NODE that has not reached PEER is lost; the command says how
    far NODE is ahead and asks first (or takes --yes).
    """

    def approve(loss: ldap_repair.ReinitPreview) -> bool:
        say(escape(loss.text()))
        if yes:
            return True
        if not interactive(as_json):
            return False
        return typer.confirm(f"Re-initialise {node} from {source}?")

    async with manager() as mgr:
        report = await ldap_repair.reinit(
            mgr,
            cluster,
            node,
            source,
            approve=approve,
            actor=cli_actor(),
            emit=ignore if as_json else print_event,
        )
    finish_report(report, as_json)


def show_comparison(result: Comparison) -> None:
    """A data comparison of the LDAP nodes: the verdict, then what differs where."""
    style = "green" if result.identical else "bold red"
    show(f"[{style}]{result.verdict}[/] (reference: {escape(result.reference or 'none')})")
    for node in result.nodes:
        if node.error:
            show(f"[bold]{escape(node.host)}[/] [red]unreadable: {escape(node.error)}[/]")
            continue
        total = sum(node.counts.values())
        subtrees = count(len(node.counts), "subtree")
        show(f"[bold]{escape(node.host)}[/] {count(total, 'entry')} in {subtrees}")
        if node.totals:
            show("  " + ", ".join(f"{n} {escape(k)}" for k, n in sorted(node.totals.items())))
        for entry in node.entries:
            show(f"    {escape(entry.kind):14} {escape(entry.dn or entry.key)}")
    for tree in result.subtrees:
        counts = ", ".join(f"{escape(h)} {n}" for h, n in tree.counts.items())
        show(
            f"subtree {escape(tree.subtree)} differs on {escape(', '.join(tree.nodes))} ({counts})"
        )
