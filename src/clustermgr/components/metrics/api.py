"""/api/v1/clusters/{name}/metrics: the stored series of a cluster, one value per step."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from clustermgr.components.metrics import window
from clustermgr.components.metrics.catalog import CATALOG
from clustermgr.components.metrics.read import read
from clustermgr.web.api.models import ClusterName
from clustermgr.web.api.responses import errors
from clustermgr.web.deps import WebDep

router = APIRouter(prefix="/clusters", tags=["metrics"])


class MetricSeriesPublic(BaseModel):
    name: str
    host: str
    labels: dict[str, str]
    unit: str = Field(description="bytes, bytes/s, ratio (0 to 1), ops/s... or '' for a count.")
    title: str = Field(description="What the series measures, in words.")
    points: list[tuple[int, float | None]] = Field(
        description="[epoch seconds of the step's start, its average or null: nothing stored]"
    )


class MetricsPublic(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: int = Field(alias="from", description="Epoch seconds: the first step's start.")
    to: int
    step: int = Field(
        description="Seconds per point (by default at least two scrapes; widened when needed)."
    )
    resolution: str = Field(description="raw (up to 6 h), 1m (up to 7 days) or 1h.")
    series: list[MetricSeriesPublic]


Series = Annotated[
    list[str],
    Query(
        description="Series names (repeated or comma-separated; default: all): "
        + ", ".join(s.name for s in CATALOG)
    ),
]
Time = Annotated[str | None, Query(max_length=40)]


@router.get("/{name}/metrics", responses=errors(400, 404, 422), response_model_by_alias=True)
async def metrics(
    name: ClusterName,
    web: WebDep,
    series: Series = [],  # noqa: B006 (FastAPI copies a Query default)
    host: Annotated[str | None, Query(max_length=253)] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Time = None,
    step: Annotated[int | None, Query(ge=1, le=366 * 86400)] = None,
) -> MetricsPublic:
    """Series of the cluster over a window (default: the last hour): raw points up to
    6 hours, 1-minute roll-ups up to 7 days, 1-hour ones beyond; the step widens to keep
    the answer short.  An unknown series or time is a 400 naming the choices."""
    names = window.series_names(series)
    start, end = window.window(from_, to, int(time.time()))
    data = await read(web.manager, name, names, start=start, end=end, step=step, host=host)
    return MetricsPublic.model_validate(data)
