"""/api/v1/clusters/{name}/logs: search the stored logs, count them over time, read
around a record, and follow new ones live (SSE); the cluster's logs settings
(``.../logs/settings``: read by any role, changed by admins, audited)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from clustermgr.components.logs import read, settings, settingsstore, tailstream
from clustermgr.logstore.base import MAX_BUCKETS
from clustermgr.logstore.query import MAX_QUERY
from clustermgr.web import sse
from clustermgr.web.api.models import MAX_ID, ClusterName
from clustermgr.web.api.responses import errors
from clustermgr.web.deps import ApiUser, WebDep

router = APIRouter(prefix="/clusters", tags=["logs"])


class LogRecordPublic(BaseModel):
    id: int
    at: datetime = Field(description="The record's own time (UTC), or when it was read.")
    host: str
    source: str = Field(description="The source's id: syslog, slapd, nginx-access, oxauth...")
    level: str | None = Field(description="debug ... critical, or null: the line says none.")
    message: str = Field(description="The whole record (continuation lines joined by \\n).")
    fields: dict[str, str | int | float] = Field(
        description="Parsed fields: NGINX's status, method, path...; slapd's conn and op."
    )


class LogSearchPublic(BaseModel):
    hits: list[LogRecordPublic] = Field(description="Newest first.")
    total: int = Field(description="How many records match in the whole range.")
    terms: list[str] = Field(description="The words and phrases to highlight, as typed.")
    next: int | None = Field(description="`before` of the next (older) page; null: the last.")


class LogBucketPublic(BaseModel):
    at: datetime = Field(description="The bucket's start.")
    count: int


class LogHistogramPublic(BaseModel):
    since: datetime
    until: datetime
    buckets: list[LogBucketPublic] = Field(description="Equal spans of the range, oldest first.")


class LogContextPublic(BaseModel):
    id: int = Field(description="The record asked about (one of the records).")
    records: list[LogRecordPublic] = Field(
        description="Its host's records around it, oldest first."
    )


class LogsSettingsPublic(BaseModel):
    slapd_log_level: str = Field(description="slapd's olcLogLevel, set by the logs apply.")
    max_age_days: int = Field(description="Records older than this many days are pruned.")
    max_megabytes: int = Field(description="The oldest records go beyond this size (MiB).")


class LogsSettingsChanged(LogsSettingsPublic):
    apply_needed: bool = Field(
        description="slapd's level changed: `clustermgr logs apply` (or the logs-apply job) "
        "sets it on the nodes."
    )


class LogsSettingsUpdate(BaseModel):
    """The settings to change (the others stay)."""

    model_config = ConfigDict(extra="forbid")

    slapd_log_level: str | None = Field(default=None, description=settings.SLAPD_LOG_LEVEL_RULE)
    max_age_days: int | None = Field(
        default=None, description=settings.allowed(settings.MAX_AGE_DAYS_KEY) + "."
    )
    max_megabytes: int | None = Field(
        default=None, description=settings.allowed(settings.MAX_MEGABYTES_KEY) + "."
    )


Q = Annotated[
    str,
    Query(
        max_length=MAX_QUERY,
        description='Words, "phrases", -excluded, host:NAME, source:ID, level:error or '
        "level:>=warning, status:502 or status:5xx.",
    ),
]
Since = Annotated[
    str | None,
    Query(max_length=40, description="15m, 1h, 24h, 7d back from `until`, or an ISO time."),
]
Until = Annotated[str | None, Query(max_length=40, description="An ISO time; default: now.")]
RecordId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _window(q: str, since: str | None, until: str | None) -> read.LogWindow:
    return read.window(q, since, until, now=datetime.now(UTC))


@router.get("/{name}/logs", responses=errors(400, 404, 422))
async def search_logs(
    name: ClusterName,
    web: WebDep,
    q: Q = "",
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, Query(ge=1, le=read.MAX_PAGE)] = 100,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> LogSearchPublic:
    """The records matching `q` in the range (default: the last hour), newest first;
    `before` reads the next page.  A query or time that cannot be read is a 400 that
    says what to type instead."""
    found = await read.search(
        web.manager, name, _window(q, since, until), limit=limit, before_id=before
    )
    return LogSearchPublic.model_validate(found.as_dict())


@router.get("/{name}/logs/settings", responses=errors(404, 422))
async def logs_settings(name: ClusterName, web: WebDep) -> LogsSettingsPublic:
    """How much slapd logs, and how long and how much of the cluster's logs are kept."""
    found = await settingsstore.cluster_logs_settings(web.manager, name)
    return LogsSettingsPublic.model_validate(found.as_dict())


@router.put("/{name}/logs/settings", responses=errors(400, 403, 404, 422))
async def change_logs_settings(
    name: ClusterName, body: LogsSettingsUpdate, web: WebDep, user: ApiUser
) -> LogsSettingsChanged:
    """Change the settings given (a value out of range is a 400, and nothing changes).
    Admins only."""
    done = await settingsstore.change_settings(
        web.manager,
        name,
        body.model_dump(exclude_none=True),
        actor=user.username,
        as_role=user.role,
    )
    return LogsSettingsChanged(**done.after.as_dict(), apply_needed=done.level_changed)


@router.get("/{name}/logs/histogram", responses=errors(400, 404, 422))
async def logs_histogram(
    name: ClusterName,
    web: WebDep,
    q: Q = "",
    since: Since = None,
    until: Until = None,
    buckets: Annotated[int, Query(ge=1, le=MAX_BUCKETS)] = 60,
) -> LogHistogramPublic:
    """How many records match `q` in each of `buckets` equal spans of the range."""
    window = _window(q, since, until)
    counts = await read.histogram(web.manager, name, window, buckets=buckets)
    return LogHistogramPublic(
        since=window.since,
        until=window.until,
        buckets=[LogBucketPublic(at=at, count=n) for at, n in counts],
    )


@router.get(
    "/{name}/logs/tail",
    response_model=None,
    responses={
        200: {
            "description": "Server-Sent Events: `record` (a record as JSON, `id` = its id) "
            "for each record matching `q` stored after `after` (or Last-Event-ID; "
            "without either, after the newest one), until the client goes away.",
            "content": {sse.MEDIA_TYPE: {"schema": tailstream.openapi_schema()}},
        },
        **errors(400, 404, 422, 429),
    },
)
async def tail_logs(
    name: ClusterName,
    request: Request,
    web: WebDep,
    user: ApiUser,
    q: Q = "",
    after: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
) -> StreamingResponse:
    """Follow the records as they are stored (a user follows a few streams at most)."""
    stream = await tailstream.tail_stream(
        web.manager,
        name,
        q,
        user=user.username,
        after_id=tailstream.resume_from(request, after),
    )
    return StreamingResponse(stream, media_type=sse.MEDIA_TYPE, headers=dict(sse.HEADERS))


@router.get("/{name}/logs/{record_id}/context", responses=errors(400, 404, 422))
async def log_context(
    name: ClusterName,
    record_id: RecordId,
    web: WebDep,
    lines: Annotated[int, Query(ge=0, le=read.MAX_CONTEXT)] = 20,
) -> LogContextPublic:
    """The record and up to `lines` records before and after it on its host."""
    around = await read.context(web.manager, name, record_id, lines=lines)
    records: list[Any] = [read.as_dict(r) for r in around]
    return LogContextPublic.model_validate({"id": record_id, "records": records})
