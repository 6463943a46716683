"""/api/v1/jobs: start, list, look up, cancel, and follow a job's events (SSE)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import WithJsonSchema

from clustermgr.auth.views import UserView
from clustermgr.db.readcache import KeptByKey
from clustermgr.jobs import service as jobs
from clustermgr.jobs.kinds import KindCatalog
from clustermgr.web import sse
from clustermgr.web.api.models import (
    MAX_ID,
    MAX_PAGE,
    JobCreate,
    JobPage,
    JobPublic,
    JobSummaryPublic,
    job_create_schema,
    next_before,
)
from clustermgr.web.api.responses import errors
from clustermgr.web.context import WebContext
from clustermgr.web.deps import ApiUser, WebDep

router = APIRouter(prefix="/jobs", tags=["jobs"])

#: Pages of the job list a process keeps until the database changes (any commit:
#: a job queued, a step's event, a heartbeat), by cluster, size and cursor.
KEPT_PAGES = 64


def job_router(kinds: KindCatalog) -> APIRouter:
    """The job routes, their start route documenting every kind of ``kinds`` and its params."""

    async def create_job(
        body: JobCreate, web: WebDep, user: ApiUser, response: Response
    ) -> JobPublic:
        """Start a job. At most one mutating job runs per cluster: 409 otherwise.

        The kind checks its params: an unknown kind or refused params are 400.
        A user with too many jobs queued or running, or a manager with too many
        in all, is answered 429.
        """
        return await start_job(
            web, user, response, kind=body.kind, cluster=body.cluster, params=body.params
        )

    # The body is read as JobCreate and documented as one variant per kind.
    create_job.__annotations__["body"] = Annotated[
        JobCreate, WithJsonSchema(job_create_schema(kinds))
    ]
    built = APIRouter()
    built.add_api_route(
        "/jobs",
        create_job,
        methods=["POST"],
        status_code=202,
        tags=["jobs"],
        responses=errors(400, 404, 409, 422, 429),
    )
    built.include_router(router)
    return built


#: SQLite's integer range; anything larger cannot be an id.
JobId = Annotated[int, Path(ge=1, le=MAX_ID)]


async def start_job(
    web: WebContext,
    user: UserView,
    response: Response,
    *,
    kind: str,
    cluster: str,
    params: dict[str, Any],
) -> JobPublic:
    """Submit a job as ``user`` (audited); the answer points at the new job."""
    job = await jobs.submit(
        web.manager,
        web.runner,
        kind_name=kind,
        cluster=cluster,
        user=user.username,
        params=params,
        as_role=user.role,
    )
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return JobPublic.of(job)


@router.get("", responses=errors(422))
async def list_jobs(
    web: WebDep,
    cluster: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> JobPage:
    """Jobs, newest first, as summaries (the verdict and step counts of each report, not
    the report: `GET /api/v1/jobs/{job_id}` has it); page on with ``before_id``."""
    kept: KeptByKey[JobPage] = web.manager.db.reads.keyed("job-pages", KEPT_PAGES)
    key = f"{cluster}|{limit}|{before_id}"
    page = kept.get(key)
    if page is None:
        # Read before loading: a commit during the load makes the page stale at once.
        at = kept.mark()
        found = await jobs.summaries(web.manager, cluster=cluster, limit=limit, before_id=before_id)
        page = JobPage(
            items=[JobSummaryPublic.of(s) for s in found],
            next_before_id=next_before([s.id for s in found], limit),
        )
        kept.keep(key, at, page)
    return page


@router.get("/{job_id}", responses=errors(404, 422))
async def get_job(job_id: JobId, web: WebDep) -> JobPublic:
    return JobPublic.of(await jobs.get(web.manager, job_id))


@router.post("/{job_id}/cancel", responses=errors(404, 422))
async def cancel_job(job_id: JobId, web: WebDep, user: ApiUser) -> JobPublic:
    """Ask a job to stop between steps (a queued job is cancelled at once).

    A finished job is answered as it is.
    """
    job = await jobs.request_cancel(web.manager, job_id, actor=user.username, as_role=user.role)
    return JobPublic.of(job)


@router.get(
    "/{job_id}/events",
    response_model=None,
    responses={
        200: {
            "description": "Server-Sent Events: `step` (an event as JSON, `id` = its seq) "
            "for each event after `after` (or Last-Event-ID), then `done` with the job.",
            "content": {sse.MEDIA_TYPE: {"schema": sse.openapi_schema()}},
        },
        **errors(400, 404, 422, 429),
    },
)
async def job_events(
    job_id: JobId,
    request: Request,
    web: WebDep,
    user: ApiUser,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
) -> StreamingResponse:
    """Follow a job live until it has finished (a user follows a few streams at most)."""
    stream = await sse.job_stream(
        web.manager, job_id, user=user.username, after=sse.resume_after(request, after)
    )
    return StreamingResponse(stream, media_type=sse.MEDIA_TYPE, headers=dict(sse.HEADERS))
