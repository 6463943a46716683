"""``clustermgr watch``: the watcher in the foreground (what it records is read by
each component's ``alerts`` and ``history`` commands, :mod:`clustermgr.cli.monitoring`)."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer
from rich.markup import escape

from clustermgr.cli.options import Json
from clustermgr.cli.output import emit_json, run_async, say, show
from clustermgr.cli.session import manager
from clustermgr.components import registry
from clustermgr.monitor.watcher import CycleReport, Watcher
from clustermgr.notify.dispatcher import BackgroundDispatch, Dispatcher


def _show_cycle(report: CycleReport) -> None:
    if not report.watched:
        say(f"[dim]{escape(report.cluster)}: another watcher holds the lease[/]")
        return
    if report.paused_by is not None:
        name = f"{report.cluster} {report.component}"
        say(f"[dim]{escape(name)}: paused, job #{report.paused_by} changes it[/]")
        return
    # A component's snapshot may list its nodes or backends with a state each; one that
    # keeps other figures per node (the cluster files' digests) shows just its time.
    nodes = report.snapshot.get("nodes") or report.snapshot.get("backends", [])
    states = ", ".join(f"{n['host']} {n['state']}" for n in nodes if {"host", "state"} <= set(n))
    name = f"{report.cluster} {report.component}"
    show(f"[bold]{escape(name)}[/] {report.seconds:.2f} s: {escape(states)}")
    for alert in report.opened:
        show(f"  [bold red]opened[/] {escape(alert.key)}: {escape(alert.message)}")
    for alert in report.resolved:
        show(f"  [green]resolved[/] {escape(alert.key)}")


@run_async()
async def watch(
    cluster: Annotated[
        str | None, typer.Option("--cluster", "-c", help="Only this cluster.")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="One check cycle, then exit.")] = False,
    as_json: Json = False,
) -> None:
    """Watch every component the registry watches, on every cluster or on one, until
    stopped.

    Each cycle checks every node, opens and resolves alerts and stores samples; the
    notifications of the alerts go out beside it.
    `clustermgr serve` runs the same watcher in the background.
    """
    # Here, not at the top: the components' command groups import this module's reads.
    async with manager() as mgr:
        watcher = Watcher(mgr, registry.watched(mgr), kinds=registry.job_kinds(), cluster=cluster)

        def show(reports: list[CycleReport]) -> None:
            for report in reports:
                emit_json(report.as_dict()) if as_json else _show_cycle(report)

        try:
            if once:
                show(await watcher.cycle())
                await Dispatcher(mgr).once()  # the notifications of this cycle
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await watcher.clusters()  # an unknown or unwatched cluster fails here, clearly
            dispatch = BackgroundDispatch(mgr)
            try:
                await watcher.run(stop, show)
            finally:
                await dispatch.stop()
        finally:
            await watcher.close()
