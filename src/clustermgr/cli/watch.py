"""``clustermgr watch`` (the replication watcher in the foreground) and the reads of
what it recorded: ``clustermgr ldap alerts|history CLUSTER``."""

from __future__ import annotations

import asyncio
import re
import signal
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.markup import escape

from clustermgr.cli.options import Json
from clustermgr.cli.output import emit_json, run_async, say
from clustermgr.cli.session import manager
from clustermgr.errors import InvalidInput
from clustermgr.monitor import read
from clustermgr.monitor.views import AlertView
from clustermgr.monitor.watcher import CycleReport, Watcher

_AGO = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``30m``, ``2h``, ``7d`` (that long ago) or an ISO time (UTC when it has no offset)."""
    now = now or datetime.now(UTC)
    ago = _AGO.match(text.strip())
    if ago:
        return now - timedelta(seconds=float(ago.group(1)) * _UNIT[ago.group(2)])
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"--since {text!r} is neither a duration nor a time",
            hint="give 30m, 2h, 7d or an ISO time such as 2026-11-27T03:00:00Z",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _show_alert(alert: AlertView) -> None:
    style = "bold red" if alert.severity == "critical" else "yellow"
    until = f" resolved {alert.resolved_at:%H:%M:%S}" if alert.resolved_at else " open"
    say(
        f"[{style}]{alert.severity}[/] {escape(alert.key)} "
        f"(opened {alert.opened_at:%Y-%m-%d %H:%M:%S}{until})\n  {escape(alert.message)}"
    )


def _show_cycle(report: CycleReport) -> None:
    if not report.watched:
        say(f"[dim]{escape(report.cluster)}: another watcher holds the lease[/]")
        return
    nodes = report.snapshot.get("nodes") or report.snapshot.get("backends", [])
    states = ", ".join(f"{n['host']} {n['state']}" for n in nodes)
    name = f"{report.cluster} {report.component}"
    say(f"[bold]{escape(name)}[/] {report.seconds:.2f} s: {escape(states)}")
    for alert in report.opened:
        say(f"  [bold red]opened[/] {escape(alert.key)}: {escape(alert.message)}")
    for alert in report.resolved:
        say(f"  [green]resolved[/] {escape(alert.key)}")


@run_async()
async def watch(
    cluster: Annotated[
        str | None, typer.Option("--cluster", "-c", help="Only this cluster.")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="One check cycle, then exit.")] = False,
    as_json: Json = False,
) -> None:
    """Watch every watched component (LDAP replication, the cache, the load balancer) of
    every cluster, or of one, until stopped.

    Each cycle checks every node, opens and resolves alerts and stores samples.
    `clustermgr serve` runs the same watcher in the background.
    """
    # Here, not at the top: the components' command groups import this module's reads.
    from clustermgr.components import registry

    async with manager() as mgr:
        watcher = Watcher(mgr, registry.watched(mgr), cluster=cluster)

        def show(reports: list[CycleReport]) -> None:
            for report in reports:
                emit_json(report.as_dict()) if as_json else _show_cycle(report)

        try:
            if once:
                show(await watcher.cycle())
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await watcher.clusters()  # an unknown or unwatched cluster fails here, clearly
            await watcher.run(stop, show)
        finally:
            await watcher.close()


@run_async()
async def alerts(
    cluster: str,
    everything: Annotated[
        bool, typer.Option("--all", help="Resolved alerts too (newest first).")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    as_json: Json = False,
) -> None:
    """The cluster's open alerts (or all of them, with --all)."""
    async with manager() as mgr:
        found = await read.cluster_alerts(mgr, cluster, open_only=not everything, limit=limit)
    if as_json:
        emit_json([a.as_dict() for a in found])
        return
    if not found:
        say("no open alerts" if not everything else "no alerts")
    for alert in found:
        _show_alert(alert)


@run_async()
async def history(
    cluster: str,
    since: Annotated[str, typer.Option(help="30m, 2h, 7d or an ISO time.")] = "1h",
    metric: Annotated[
        str | None, typer.Option(help="probe_seconds or lag_seconds (default: both).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Replication samples: probe latency per node pair, lag per pair (oldest first)."""
    async with manager() as mgr:
        samples = await read.samples(mgr, cluster, "ldap", since=parse_since(since), metric=metric)
    if as_json:
        emit_json([s.as_dict() for s in samples])
        return
    if not samples:
        say("no samples in that window (is a watcher running?)")
    for s in samples:
        pair = f"{s.host} <- {s.peer}" if s.metric == "lag_seconds" else f"{s.host} -> {s.peer}"
        say(f"{s.at:%Y-%m-%d %H:%M:%S} {s.metric} {escape(pair)} {s.value:g}")
