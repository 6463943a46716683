"""``clustermgr metrics``: the series the watcher scraped, as they stand and trend."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.markup import escape

from clustermgr.cli.options import Json
from clustermgr.cli.output import EXIT_FAILED, emit_json, run_async, say
from clustermgr.cli.session import manager
from clustermgr.cli.table import UNKNOWN, percent, show_table, size
from clustermgr.components.metrics import window
from clustermgr.components.metrics.catalog import CATALOG
from clustermgr.components.metrics.read import read
from clustermgr.components.metrics.rulescli import app as rules_app
from clustermgr.components.metrics.status import status as metrics_status

app = typer.Typer(no_args_is_help=True)
app.add_typer(rules_app, name="rules")

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | None]) -> str:
    """One character per value, low to high; a blank where nothing was stored."""
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    low, high = min(known), max(known)
    spread = high - low

    def bar(v: float) -> str:
        return BARS[0] if spread == 0 else BARS[round((v - low) / spread * (len(BARS) - 1))]

    return "".join(" " if v is None else bar(v) for v in values)


def figure(value: float | None, unit: str) -> str:
    """A value as people read it in ``unit``."""
    if value is None:
        return UNKNOWN
    if unit == "bytes":
        return size(value)
    if unit == "bytes/s":
        return f"{size(value)}/s"
    if unit == "ratio":
        return percent(value)
    if unit == "s":
        return f"{value / 86400:.1f} d" if value >= 86400 else f"{value:.0f} s"
    return f"{value:.3g}" + (f" {unit}" if unit else "")


def rows(data: dict[str, Any]) -> list[list[str]]:
    """A row per series: host, series and labels, its newest value, the least, average and
    greatest of its steps, their trend."""
    out = []
    for s in data["series"]:
        values: list[float | None] = [v for _, v in s["points"]]
        known = [v for v in values if v is not None]
        labels = ",".join(f"{k}={v}" for k, v in sorted(s["labels"].items()))
        name = f"{s['name']}{{{labels}}}" if labels else s["name"]
        unit = s["unit"]
        out.append(
            [
                escape(s["host"]),
                escape(name),
                figure(s["latest"][1] if s.get("latest") else None, unit),
                figure(min(known) if known else None, unit),
                figure(sum(known) / len(known) if known else None, unit),
                figure(max(known) if known else None, unit),
                sparkline(values[-TREND:]),
            ]
        )
    return out


#: Steps the trend column shows (the window is read in this many steps).
TREND = 30


@app.command()
@run_async()
async def status(cluster: str, as_json: Json = False) -> None:
    """Read every server's metrics sources once (nothing stored): what answers, what not."""
    async with manager() as mgr:
        report = await metrics_status(mgr, cluster)
    data = report.as_dict()
    if as_json:
        emit_json(data)
    else:
        table = []
        for host, seen in data["hosts"].items():
            said = seen["error"] or "; ".join(f"{k}: {v}" for k, v in seen["errors"].items())
            state = "unreachable" if not seen["reachable"] else "ok" if not said else "partial"
            table.append([escape(host), state, str(seen["readings"]), escape(said)])
        show_table(["host", "state", "readings", "problems"], table)
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)


@app.command()
@run_async()
async def show(
    cluster: str,
    host: Annotated[str | None, typer.Option("--host", help="Only this server.")] = None,
    series: Annotated[
        list[str] | None,
        typer.Option(
            "--series",
            "-s",
            help="A series (repeat it, or comma-separate; default: all): "
            + ", ".join(s.name for s in CATALOG),
        ),
    ] = None,
    since: Annotated[
        str, typer.Option("--since", help="The window up to now: 90s, 15m, 1h, 7d...")
    ] = "1h",
    as_json: Json = False,
) -> None:
    """The newest value of each series, and the least, average and greatest of its
    averages over the window's steps, with their trend."""
    names = window.series_names(series or [])
    now = int(time.time())
    start, end = window.window(None, None, now, window.duration(since, "--since"))
    step = max(1, (end - start) // TREND)
    say(f"reading {len(names)} series of {escape(cluster)} over the last {escape(since)}")
    async with manager() as mgr:
        data = await read(
            mgr, cluster, names, start=start, end=end, step=step, host=host, with_latest=True
        )
    if as_json:
        emit_json(data)
        return
    if not data["series"]:
        say("nothing stored yet: is `clustermgr watch` (or `clustermgr serve`) running?")
        return
    say(f"{data['resolution']} points, {data['step']} s per step")
    show_table(["host", "series", "now", "min", "avg", "max", "trend"], rows(data))
