"""The logs page of a cluster: a search over a time range, its histogram, the hits with
their terms highlighted, the lines around a hit, and a live tail over Server-Sent Events.

The query and the range are the page's URL (``q``, ``from``, ``to``, ``before``), so a
search is a link; ``host=NAME`` adds ``host:NAME`` to the query (the links of an
alert's or a job's hosts around its time).  A query or a time the search cannot read
is answered with the page and its error (400), never a server error.

``/clusters/{name}/logs/settings`` shows the cluster's logs settings (slapd's level,
the retention), which admins change there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from clustermgr.components.logs import read, settings, settingsstore, tailstream
from clustermgr.components.logs.sources import SLAPD, SOURCES_BY_ROLE
from clustermgr.core.access import get_cluster
from clustermgr.errors import InvalidInput
from clustermgr.inventory.schemas import ClusterView
from clustermgr.logstore.query import parse_query
from clustermgr.logstore.records import StoredRecord
from clustermgr.topology import Role
from clustermgr.web import sse
from clustermgr.web.deps import SessionDep, WebDep
from clustermgr.web.pages.common import actor, parse_int, redirect, render, role
from clustermgr.words import count

router = APIRouter()

#: The ranges offered as buttons: (``from``, label); the first of them is the default.
RANGES: tuple[tuple[str, str], ...] = (
    ("1h", "1 h"),
    ("15m", "15 min"),
    ("6h", "6 h"),
    ("24h", "24 h"),
    ("7d", "7 d"),
)
DEFAULT_RANGE = RANGES[0][0]
#: Hits per page, bars of the histogram, lines either side of a hit in its context.
PAGE = 100
BARS = 60
CONTEXT_LINES = 20
#: The most lines the live tail keeps shown (the oldest go).
LIVE_CAP = 500

FromParam = Annotated[str, Query(alias="from")]


def _query_text(q: str, host: str) -> str:
    """What is searched: ``q``, with ``host:HOST`` in front when a host is named."""
    q, host = q.strip(), host.strip()
    if host and f"host:{host}" not in q.split():
        return f"host:{host} {q}".strip()
    return q


def _url(cluster: str, suffix: str = "", **params: str | int | None) -> str:
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"/clusters/{cluster}/logs{suffix}" + (f"?{urlencode(kept)}" if kept else "")


def _help(cluster: ClusterView) -> dict[str, list[str]]:
    sources = dict.fromkeys(
        s.id for server in cluster.servers for s in SOURCES_BY_ROLE.get(server.role, ())
    )
    if any(server.role is Role.IDENTITY for server in cluster.servers):
        sources[SLAPD] = None  # slapd's syslog or journal records, named by the parser
    return {"hosts": [s.hostname for s in cluster.servers], "sources": list(sources)}


def _row(found: StoredRecord, terms: Sequence[str]) -> dict[str, Any]:
    """A record as a row shows it: its fields and its message in highlighted parts."""
    return {
        **read.as_dict(found),
        "at": found.record.at.astimezone(UTC),
        "parts": read.highlight(found.record.message, terms),
    }


def _span_words(span: timedelta) -> str:
    seconds = max(1, round(span.total_seconds()))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size and seconds % size == 0:
            return count(seconds // size, unit)
    if seconds >= 60:
        return f"{seconds / 60:.1f} minutes".replace(".0 ", " ")
    return count(seconds, "second")


def _bars(counts: Sequence[tuple[datetime, int]]) -> list[list[int]]:
    return [[int(at.timestamp()), n] for at, n in counts]


@router.get("/clusters/{name}/logs", response_class=HTMLResponse)
async def logs_page(
    request: Request,
    web: WebDep,
    name: str,
    q: str = "",
    host: str = "",
    since: FromParam = "",
    to: str = "",
    before: str = "",
) -> Response:
    cluster = await get_cluster(web.manager, name)
    text = _query_text(q, host)
    chosen = since.strip() or DEFAULT_RANGE
    here = {"q": text, "from": chosen, "to": to.strip()}
    context: dict[str, Any] = {
        "cluster": cluster,
        "q": text,
        "since": chosen,
        "until": to.strip(),
        "ranges": RANGES,
        "help": _help(cluster),
        "live_cap": LIVE_CAP,
        "tail_url": _url(name, "/tail", q=text),
        "range_links": [
            (label, _url(name, q=text, **{"from": value}), value == chosen and not to.strip())
            for value, label in RANGES
        ],
    }
    try:
        window = read.window(text, chosen, to.strip() or None, now=datetime.now(UTC))
        before_id = parse_int(before, "page") if before.strip() else None
    except InvalidInput as exc:
        return render(web, request, "logs/page.html", context | {"error": exc}, status=400)
    page = await read.search(web.manager, name, window, limit=PAGE, before_id=before_id)
    counts = await read.histogram(web.manager, name, window, buckets=BARS)
    context |= {
        "window": window,
        "rows": [_row(found, page.terms) for found in page.hits],
        "total": page.total,
        "paged": before_id is not None,
        "older_url": _url(name, **here, before=page.before_id) if page.before_id else None,
        "first_url": _url(name, **here),
        "bars": _bars(counts),
        "step_words": _span_words((window.until - window.since) / BARS),
        "context_query": urlencode({k: v for k, v in here.items() if v}),
    }
    return render(web, request, "logs/page.html", context)


def _settings_context(cluster: ClusterView, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "cluster": cluster,
        "values": values,
        "ranges": {
            settings.MAX_AGE_DAYS_KEY: settings.MAX_AGE_DAYS_RANGE,
            settings.MAX_MEGABYTES_KEY: settings.MAX_MEGABYTES_RANGE,
        },
        "level_rule": settings.SLAPD_LOG_LEVEL_RULE,
    }


@router.get("/clusters/{name}/logs/settings", response_class=HTMLResponse)
async def settings_page(
    request: Request, web: WebDep, name: str, saved: str = "", apply: str = ""
) -> Response:
    cluster = await get_cluster(web.manager, name)
    found = await settingsstore.cluster_logs_settings(web.manager, name)
    context = _settings_context(cluster, found.as_dict())
    context |= {"saved": saved == "1", "apply_needed": apply == "1"}
    return render(web, request, "logs/settings.html", context)


@router.post("/clusters/{name}/logs/settings")
async def save_settings(request: Request, web: WebDep, session: SessionDep, name: str) -> Response:
    """The form's values (the page again with the error, 400, when one is not allowed;
    nothing is kept then)."""
    cluster = await get_cluster(web.manager, name)
    form = await request.form()
    update = {k: str(form[k]) for k in settings.EDITABLE if k in form}
    try:
        done = await settingsstore.change_settings(
            web.manager, name, update, actor=actor(session), as_role=role(session)
        )
    except InvalidInput as exc:
        context = _settings_context(cluster, update) | {"error": exc}
        return render(web, request, "logs/settings.html", context, status=400)
    return redirect(f"/clusters/{name}/logs/settings?saved=1&apply={int(done.level_changed)}")


@router.get("/clusters/{name}/logs/tail")
async def live_tail(
    request: Request,
    web: WebDep,
    session: SessionDep,
    name: str,
    q: str = "",
    host: str = "",
    after: int | None = None,
) -> Response:
    """The records stored from now on matching the query, as SSE ``record`` messages
    (their ids as the SSE ids), after a ``ready`` one naming the id it follows from:
    ``?after=N`` (or ``Last-Event-ID``) goes on after record N, so a paused or
    reconnecting page misses nothing."""
    text = _query_text(q, host)
    stream = await tailstream.tail_stream(
        web.manager,
        name,
        text,
        user=actor(session),
        after_id=tailstream.resume_from(request, after),
        shape=record_shape(name, parse_query(text).highlight_terms()),
    )
    return StreamingResponse(stream, media_type=sse.MEDIA_TYPE, headers=dict(sse.HEADERS))


def record_shape(cluster: str, terms: Sequence[str]) -> tailstream.Shape:
    """A tailed record as the page shows it: the API's fields, the message's parts with
    the hits marked, and its context's URL."""

    def shape(found: StoredRecord) -> dict[str, object]:
        return {
            **read.as_dict(found),
            "parts": read.highlight(found.record.message, terms),
            "context": _url(cluster, f"/{found.id}/context"),
        }

    return shape


@router.get("/clusters/{name}/logs/{record_id}/context", response_class=HTMLResponse)
async def record_context(
    request: Request,
    web: WebDep,
    name: str,
    record_id: int,
    q: str = "",
    since: FromParam = "",
    to: str = "",
) -> Response:
    """The lines around record ``record_id`` on its host, the record marked: a row of
    the search's table for htmx, a page of its own otherwise."""
    cluster = await get_cluster(web.manager, name)
    try:
        terms = parse_query(q).highlight_terms()
    except InvalidInput:
        terms = []
    lines = await read.context(web.manager, name, record_id, lines=CONTEXT_LINES)
    rows = [_row(found, terms) for found in lines]
    hit = next((r for r in rows if r["id"] == record_id), None)
    context = {
        "cluster": cluster,
        "rows": rows,
        "hit": hit,
        "record_id": record_id,
        "back_url": _url(name, q=q, **{"from": since}, to=to),
    }
    fragment = "hx-request" in request.headers
    template = "logs/context_row.html" if fragment else "logs/context.html"
    return render(web, request, template, context)
