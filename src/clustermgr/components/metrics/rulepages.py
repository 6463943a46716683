"""A cluster's alert rules page: every threshold rule, its threshold, duration, severity
and state, each saved or reset by itself (admins), and every rule reset at once."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from clustermgr.components.metrics import rulestore
from clustermgr.components.metrics.measures import series_unit
from clustermgr.components.metrics.rules import UNREACHABLE
from clustermgr.core.access import get_cluster
from clustermgr.errors import InvalidInput
from clustermgr.monitor.alerts import Severity
from clustermgr.web.deps import SessionDep, WebDep
from clustermgr.web.pages.common import actor, redirect, render, role

router = APIRouter()


@router.get("/clusters/{name}/metrics/rules", response_class=HTMLResponse)
async def rules_page(request: Request, web: WebDep, name: str) -> Response:
    cluster = await get_cluster(web.manager, name)
    states = await rulestore.rules(web.manager, name)
    context = {
        "cluster": cluster,
        "states": states,
        "severities": list(Severity),
        "units": {s.rule.id: series_unit(s.rule.series) for s in states},
        "unreachable": UNREACHABLE,
    }
    return render(web, request, "metrics/rules.html", context)


def number(form: Any, field: str, rule: str) -> float | None:
    """A form's number field (None when absent or blank); InvalidInput names it."""
    raw = form.get(field)
    if raw is None or not str(raw).strip():
        return None
    try:
        value = float(str(raw).strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InvalidInput(f"invalid rule {rule!r}: {field}: {str(raw)[:40]!r} is not a number")
    return value


@router.post("/clusters/{name}/metrics/rules/{rule}")
async def save_rule(
    request: Request, web: WebDep, session: SessionDep, name: str, rule: str
) -> Response:
    """The row's threshold, duration (seconds), severity and state."""
    form = await request.form()
    change: dict[str, Any] = {"enabled": form.get("enabled") == "on"}
    for field in ("threshold", "duration"):
        value = number(form, field, rule)
        if value is not None:
            change[field] = value
    if (severity := form.get("severity")) is not None:
        change["severity"] = str(severity)
    await rulestore.change(
        web.manager, name, rule, change, actor=actor(session), as_role=role(session)
    )
    return redirect(f"/clusters/{name}/metrics/rules#rule-{rule}")


@router.post("/clusters/{name}/metrics/rules/{rule}/reset")
async def reset_rule(web: WebDep, session: SessionDep, name: str, rule: str) -> Response:
    await rulestore.reset(web.manager, name, rule, actor=actor(session), as_role=role(session))
    return redirect(f"/clusters/{name}/metrics/rules#rule-{rule}")


@router.post("/clusters/{name}/metrics/rules-reset")
async def reset_all(web: WebDep, session: SessionDep, name: str) -> Response:
    await rulestore.reset(web.manager, name, actor=actor(session), as_role=role(session))
    return redirect(f"/clusters/{name}/metrics/rules")
