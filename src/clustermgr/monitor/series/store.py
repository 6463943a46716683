"""The series store as the watcher, the API and the CLI see it, whichever keeps the points.

:class:`SeriesStore` is what they use: write one scrape's points, read series
back one value per step, the newest point of each.  Two stores do it:
:class:`EmbeddedStore` (the manager's database: raw points, roll-ups, pruning)
and, when ``CLUSTERMGR_METRICS_URL`` is set, the VictoriaMetrics one
(:mod:`~clustermgr.monitor.series.victoria`).  :func:`series_store` picks by the
settings; :func:`opened` is the same for one read.  Both answer the same
:class:`~clustermgr.monitor.series.query.Answer`: a value or ``None`` per step.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from clustermgr.core.manager import Manager
from clustermgr.monitor.series import ingest, query, rollup
from clustermgr.monitor.series.ingest import Point, SeriesIds
from clustermgr.monitor.series.query import Answer, SeriesPoints


@dataclass(frozen=True)
class Written:
    """What one write stored, or why it stored nothing."""

    points: int
    #: Why the store took nothing (None: it took them), in words, no secret.
    error: str | None = None
    #: Since when (epoch seconds) the store has refused writes, while it does.
    down_since: float | None = None

    def as_dict(self, kind: str) -> dict[str, object]:
        return {
            "kind": kind,
            "ok": self.error is None,
            "error": self.error,
            "down_since": self.down_since,
        }


class SeriesStore(Protocol):
    #: "embedded" or "victoriametrics".
    kind: str

    async def write(self, cluster: str, at: int, points: Sequence[Point]) -> Written:
        """Store one scrape's ``points`` of ``cluster`` at ``at`` (epoch seconds).  A
        store that does not answer loses them and says why; the caller goes on."""
        ...

    async def query(
        self,
        cluster: str,
        names: Sequence[str],
        *,
        start: int,
        end: int,
        step: int | None = None,
        host: str | None = None,
    ) -> Answer:
        """The series ``names`` over ``[start, end)``, one average per step (``None``:
        nothing stored), in ``names``' order then by host and labels."""
        ...

    async def latest(
        self, cluster: str, series: Sequence[SeriesPoints]
    ) -> dict[int, tuple[int, float]]:
        """The newest point of each of ``series`` (a :meth:`query`'s): id -> (t, v)."""
        ...

    async def aclose(self) -> None: ...


class EmbeddedStore:
    """The manager's own database: points, then each closed minute and hour rolled up."""

    kind = "embedded"

    def __init__(self, manager: Manager) -> None:
        self.manager = manager
        self._ids: dict[str, SeriesIds] = {}

    async def write(self, cluster: str, at: int, points: Sequence[Point]) -> Written:
        ids = self._ids.setdefault(cluster, SeriesIds(cluster))
        stored = await ingest.write(self.manager, ids, at, points)
        await rollup.roll(self.manager, cluster, at)
        return Written(stored)

    async def query(
        self,
        cluster: str,
        names: Sequence[str],
        *,
        start: int,
        end: int,
        step: int | None = None,
        host: str | None = None,
    ) -> Answer:
        return await query.query(
            self.manager, cluster, names, start=start, end=end, step=step, host=host
        )

    async def latest(
        self, cluster: str, series: Sequence[SeriesPoints]
    ) -> dict[int, tuple[int, float]]:
        return await query.latest(self.manager, [s.id for s in series])

    async def aclose(self) -> None:
        return None


def series_store(manager: Manager) -> SeriesStore:
    """The store the settings name: VictoriaMetrics at ``CLUSTERMGR_METRICS_URL``, else
    the embedded one.  Close it with :meth:`SeriesStore.aclose`."""
    url = manager.settings.metrics_url
    if url is None:
        return EmbeddedStore(manager)
    from clustermgr.monitor.series.victoria import VictoriaStore

    return VictoriaStore(url, lookback=round(manager.settings.metrics_raw_hours * 3600))


@asynccontextmanager
async def opened(manager: Manager) -> AsyncIterator[SeriesStore]:
    """:func:`series_store` for one read, closed after it."""
    store = series_store(manager)
    try:
        yield store
    finally:
        await store.aclose()
