"""Reading a cluster's series as the API and the CLI show them: one shape for both."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clustermgr.components.metrics.catalog import BY_NAME
from clustermgr.core.access import get_cluster
from clustermgr.core.manager import Manager
from clustermgr.monitor.series.store import opened


async def read(
    manager: Manager,
    cluster: str,
    names: Sequence[str],
    *,
    start: int,
    end: int,
    step: int | None = None,
    host: str | None = None,
    with_latest: bool = False,
) -> dict[str, Any]:
    """``{"from", "to", "step", "resolution", "series": [{"name", "host", "labels",
    "unit", "points": [[t, v | None], ...]}]}``; NotFound for an unknown cluster.
    ``with_latest``: each series also has ``latest``, its newest raw point ``[t, v]``
    (null when none is stored).  Read from the store the settings name (the embedded one
    or VictoriaMetrics); SeriesStoreUnavailable when it does not answer."""
    await get_cluster(manager, cluster)
    async with opened(manager) as store:
        answer = await store.query(cluster, names, start=start, end=end, step=step, host=host)
        newest = await store.latest(cluster, answer.series) if with_latest else {}
    return {
        "from": answer.start,
        "to": answer.end,
        "step": answer.step,
        "resolution": str(answer.resolution),
        "series": [
            {
                "name": s.name,
                "host": s.host,
                "labels": s.labels,
                "unit": BY_NAME[s.name].unit,
                "points": [[t, v] for t, v in s.points],
                **(
                    {"latest": list(newest[s.id]) if s.id in newest else None}
                    if with_latest
                    else {}
                ),
            }
            for s in answer.series
        ],
    }
