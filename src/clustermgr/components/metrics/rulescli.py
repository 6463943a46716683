"""``clustermgr metrics rules``: list and change a cluster's threshold alert rules."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from clustermgr.cli.options import Json
from clustermgr.cli.output import emit_json, run_async, say, show
from clustermgr.cli.session import cli_actor, manager
from clustermgr.cli.table import show_table
from clustermgr.components.metrics import rulestore, window
from clustermgr.components.metrics.measures import series_names
from clustermgr.components.metrics.rulestore import RuleState
from clustermgr.errors import InvalidInput

app = typer.Typer(no_args_is_help=True, help="Threshold alert rules of a cluster.")

Rule = Annotated[str, typer.Argument(help="The rule's id (see `metrics rules list`).")]


def row(state: RuleState) -> list[str]:
    r = state.rule
    mark = "own" if state.default is None else "changed" if state.changed else "default"
    return [
        escape(r.id),
        "on" if r.enabled else "off",
        escape(r.describe()),
        r.severity.value,
        ",".join(x.value for x in r.roles) or "all",
        mark,
    ]


def show_rules(states: list[RuleState]) -> None:
    show_table(["rule", "state", "condition", "severity", "roles", "from"], map(row, states))


def seconds(text: str, name: str = "--for") -> int:
    """``0``, ``90s``, ``5m``... in seconds."""
    return 0 if text.strip() in ("0", "0s") else window.duration(text, name)


def labels(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"invalid --label {pair!r}", hint="KEY=VALUE, e.g. mount=/var")
        out[key.strip()] = value.strip()
    return out


@app.command("list")
@run_async()
async def list_rules(cluster: str, as_json: Json = False) -> None:
    """Every rule of the cluster: the defaults (as changed, if so), then its own."""
    async with manager() as mgr:
        states = await rulestore.rules(mgr, cluster)
    if as_json:
        emit_json([s.as_dict() for s in states])
    else:
        show_rules(states)


async def _change(cluster: str, rule: str, change: dict[str, Any], as_json: bool) -> None:
    async with manager() as mgr:
        state = await rulestore.change(mgr, cluster, rule, change, actor=cli_actor())
    if as_json:
        emit_json(state.as_dict())
    else:
        show_rules([state])


@app.command("set")
@run_async()
async def set_rule(
    cluster: str,
    rule: Rule,
    series: Annotated[
        str | None,
        typer.Option("--series", help="What it watches: " + ", ".join(series_names())),
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option("--label", help="Only instances with this label: KEY=VALUE (repeat)."),
    ] = None,
    above: Annotated[float | None, typer.Option("--above", help="Breached above this.")] = None,
    below: Annotated[float | None, typer.Option("--below", help="Breached below this.")] = None,
    lasting: Annotated[
        str | None, typer.Option("--for", help="How long breached before it alerts: 0, 90s, 5m.")
    ] = None,
    severity: Annotated[str | None, typer.Option("--severity", help="warning or critical.")] = None,
    role: Annotated[
        list[str] | None, typer.Option("--role", help="Only servers of this role (repeat).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Change a rule (the options given), or add a rule of the cluster's own (its
    --series and --above or --below)."""
    if above is not None and below is not None:
        raise InvalidInput("give --above or --below, not both")
    change: dict[str, Any] = {}
    if series is not None:
        change["series"] = series
    if label is not None:
        change["labels"] = labels(label)
    if above is not None or below is not None:
        change["comparison"] = ">" if above is not None else "<"
        change["threshold"] = above if above is not None else below
    if lasting is not None:
        change["duration"] = seconds(lasting)
    if severity is not None:
        change["severity"] = severity
    if role is not None:
        change["roles"] = role
    if not change:
        raise InvalidInput("nothing to change", hint="see `clustermgr metrics rules set --help`")
    await _change(cluster, rule, change, as_json)


@app.command()
@run_async()
async def disable(cluster: str, rule: Rule, as_json: Json = False) -> None:
    """Turn a rule off (its open alerts resolve at the next scrape)."""
    await _change(cluster, rule, {"enabled": False}, as_json)


@app.command()
@run_async()
async def enable(cluster: str, rule: Rule, as_json: Json = False) -> None:
    """Turn a rule on again."""
    await _change(cluster, rule, {"enabled": True}, as_json)


@app.command()
@run_async()
async def reset(
    cluster: str,
    rule: Annotated[str | None, typer.Argument(help="One rule (default: every rule).")] = None,
    as_json: Json = False,
) -> None:
    """Back to the defaults: one rule, or all (the cluster's own rules go)."""
    async with manager() as mgr:
        ids = await rulestore.reset(mgr, cluster, rule, actor=cli_actor())
    if as_json:
        emit_json({"reset": ids})
    elif ids:
        show(f"reset: {escape(', '.join(ids))}")
    else:
        say("nothing to reset: the rules were the defaults already")
