"""What the watcher recorded, per component: ``clustermgr NAME alerts|history CLUSTER``.

A component's CLI group gets both commands from :func:`add_monitoring_commands`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.markup import escape

from clustermgr.cli.options import Json
from clustermgr.cli.output import emit_json, run_async, say
from clustermgr.cli.session import manager
from clustermgr.cli.table import show_table
from clustermgr.errors import InvalidInput
from clustermgr.monitor import read
from clustermgr.monitor.views import AlertView

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


def show_alerts(alerts: list[AlertView]) -> None:
    """One row per alert: severity, key, when it opened and resolved, what it says."""
    show_table(
        ["SEVERITY", "ALERT", "OPENED", "RESOLVED", "MESSAGE"],
        [
            [
                f"[{'bold red' if a.severity == 'critical' else 'yellow'}]{escape(a.severity)}[/]",
                escape(a.key),
                f"{a.opened_at:%Y-%m-%d %H:%M:%S}",
                f"{a.resolved_at:%Y-%m-%d %H:%M:%S}" if a.resolved_at else "open",
                escape(a.message),
            ]
            for a in alerts
        ],
    )


def add_monitoring_commands(app: typer.Typer, component: str) -> None:
    """``alerts`` and ``history`` for ``component``'s CLI group."""
    app.command("alerts")(_alerts(component))
    app.command("history")(_history(component))


def _alerts(component: str) -> Callable[..., None]:
    @run_async()
    async def alerts(
        cluster: str,
        everything: Annotated[
            bool, typer.Option("--all", help="Resolved alerts too (newest first).")
        ] = False,
        limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
        as_json: Json = False,
    ) -> None:
        async with manager() as mgr:
            found = await read.cluster_alerts(
                mgr, cluster, open_only=not everything, limit=limit, component=component
            )
        if as_json:
            emit_json([a.as_dict() for a in found])
            return
        if not found:
            say("no open alerts" if not everything else "no alerts")
        else:
            show_alerts(found)

    alerts.__doc__ = f"The cluster's open {component} alerts (or all of them, with --all)."
    return alerts


def _history(component: str) -> Callable[..., None]:
    @run_async()
    async def history(
        cluster: str,
        since: Annotated[str, typer.Option(help="30m, 2h, 7d or an ISO time.")] = "1h",
        metric: Annotated[str | None, typer.Option(help="One metric (default: all).")] = None,
        as_json: Json = False,
    ) -> None:
        start = parse_since(since)
        async with manager() as mgr:
            samples = await read.samples(mgr, cluster, component, since=start, metric=metric)
        if as_json:
            emit_json([s.as_dict() for s in samples])
            return
        if not samples:
            say("no samples in that window (is a watcher running?)")
            return
        show_table(
            ["AT", "METRIC", "HOST", "VALUE"],
            [
                [
                    f"{s.at:%Y-%m-%d %H:%M:%S}",
                    escape(s.metric),
                    escape(s.host if s.peer is None else f"{s.host} / {s.peer}"),
                    f"{s.value:g}",
                ]
                for s in samples
            ],
        )

    history.__doc__ = f"The {component} samples the watcher recorded (oldest first)."
    return history
