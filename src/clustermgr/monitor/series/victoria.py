"""The series in VictoriaMetrics: written through its Prometheus import API, read with PromQL.

A point of series ``cpu`` of host ``idp1`` in cluster ``prod`` is the sample
``clustermgr_cpu{cluster="prod",host="idp1",mode="user"}`` at the scrape's
second, rendered by ``prometheus-client`` and posted to
``/api/v1/import/prometheus``.  VictoriaMetrics keeps, compresses and prunes
them (its own ``-retentionPeriod``); nothing is rolled up here.

A read is one ``/api/v1/query_range``: ``avg_over_time`` over each step,
evaluated at the step's end one second back, so a step ``[t, t + step)``
averages the points stored at its seconds exactly as the embedded store does;
a step with no point has no value (``None``).  The step is chosen as the
embedded store chooses it, and the answer's resolution is that step (``60s``).

A VictoriaMetrics that does not answer loses the points written meanwhile:
the scrape goes on, the outage is logged once when it starts and once when it
ends, and each write says why it stored nothing.  A read raises
:class:`~clustermgr.errors.SeriesStoreUnavailable` (the API's 503).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from prometheus_client import CollectorRegistry, Metric, generate_latest
from prometheus_client.registry import Collector

from clustermgr.errors import InvalidInput, SeriesStoreUnavailable
from clustermgr.monitor.series.ingest import Point, labels_text
from clustermgr.monitor.series.query import (
    Answer,
    SeriesPoints,
    fit_step,
    resolution_for,
)
from clustermgr.monitor.series.store import Written

log = logging.getLogger(__name__)

#: Every series' name in VictoriaMetrics starts so.
PREFIX = "clustermgr_"
#: Seconds one request may take (connect, send, answer).
TIMEOUT = 10.0
IMPORT = "/api/v1/import/prometheus"
QUERY_RANGE = "/api/v1/query_range"
QUERY = "/api/v1/query"


def shown(url: str) -> str:
    """``url`` without a user name or password, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def quoted(value: str) -> str:
    """A PromQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def selector(cluster: str, names: Iterable[str], hosts: Iterable[str] = ()) -> str:
    """The series ``names`` of ``cluster`` (of ``hosts`` only, when some are given)."""
    wanted = "|".join(re.escape(PREFIX + n) for n in sorted(set(names)))
    matchers = [f"__name__=~{quoted(wanted)}", f"cluster={quoted(cluster)}"]
    chosen = sorted(set(hosts))
    if chosen:
        matchers.append(f"host=~{quoted('|'.join(re.escape(h) for h in chosen))}")
    return "{" + ",".join(matchers) + "}"


class _Scrape(Collector):
    """One scrape's points as gauges with their time, for ``generate_latest``."""

    def __init__(self, cluster: str, at: int, points: Sequence[Point]) -> None:
        self.cluster, self.at, self.points = cluster, at, points

    def collect(self) -> Iterable[Metric]:
        families: dict[str, Metric] = {}
        for p in self.points:
            name = PREFIX + p.name
            family = families.get(name)
            if family is None:
                family = families[name] = Metric(name, p.name, "gauge")
            labels = {**dict(p.labels), "cluster": self.cluster, "host": p.host}
            family.add_sample(name, labels, p.value, timestamp=self.at)
        return families.values()


def exposition(cluster: str, at: int, points: Sequence[Point]) -> bytes:
    """``points`` (one of a series each) in the Prometheus text format, stamped ``at``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Scrape(cluster, at, list({p.key: p for p in points}.values())))
    return generate_latest(registry)


def _series(result: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    labels = dict(result.get("metric") or {})
    name = str(labels.pop("__name__", ""))[len(PREFIX) :]
    labels.pop("cluster", None)
    host = str(labels.pop("host", ""))
    return name, host, {str(k): str(v) for k, v in labels.items()}


def _value(text: object) -> float | None:
    try:
        value = float(str(text))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class VictoriaStore:
    """A VictoriaMetrics at ``url``; ``lookback``: how far back (seconds) a newest point
    is looked for."""

    kind = "victoriametrics"

    def __init__(self, url: str, *, lookback: int, timeout: float = TIMEOUT) -> None:
        self.url = url
        self.lookback = lookback
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None
        #: Since when (epoch seconds) writes fail, and why; None while they succeed.
        self._down_since: float | None = None
        self._why: str | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(base_url=self.url, timeout=self.timeout)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # --- writes ---------------------------------------------------------------------

    async def write(self, cluster: str, at: int, points: Sequence[Point]) -> Written:
        if not points:
            return Written(0)
        body = exposition(cluster, at, points)
        try:
            answer = await self.client.post(IMPORT, content=body)
            if answer.status_code >= 300:
                raise SeriesStoreUnavailable(self._said(answer))
        except (httpx.HTTPError, SeriesStoreUnavailable) as exc:
            why = self._failure(exc)
            if self._down_since is None:
                self._down_since = time.time()
                log.warning(
                    "VictoriaMetrics at %s takes no points: %s; the scrape goes on and loses "
                    "its points until it answers again",
                    shown(self.url),
                    why,
                )
            self._why = why
            return Written(0, why, self._down_since)
        if self._down_since is not None:
            log.warning(
                "VictoriaMetrics at %s takes points again, after %.0f s",
                shown(self.url),
                time.time() - self._down_since,
            )
            self._down_since = self._why = None
        return Written(len({p.key for p in points}))

    def _said(self, answer: httpx.Response) -> str:
        text = " ".join(answer.text.split())[:200]
        return f"HTTP {answer.status_code}" + (f": {text}" if text else "")

    def _failure(self, exc: Exception) -> str:
        if isinstance(exc, SeriesStoreUnavailable):
            return exc.message
        if isinstance(exc, httpx.TimeoutException):
            return f"no answer within {self.timeout:g} s"
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

    # --- reads ----------------------------------------------------------------------

    async def _get(self, path: str, params: dict[str, str | int]) -> list[dict[str, Any]]:
        """The ``result`` of a PromQL query; SeriesStoreUnavailable when there is none."""
        try:
            answer = await self.client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise self._unavailable(self._failure(exc)) from None
        if answer.status_code != 200:
            raise self._unavailable(self._said(answer))
        try:
            data = answer.json()
            result: list[dict[str, Any]] = data["data"]["result"]
        except (ValueError, KeyError, TypeError):
            raise self._unavailable("its answer is not a PromQL result") from None
        return result

    def _unavailable(self, why: str) -> SeriesStoreUnavailable:
        return SeriesStoreUnavailable(
            f"the series store (VictoriaMetrics at {shown(self.url)}) cannot be read: {why}",
            hint="check that VictoriaMetrics runs and CLUSTERMGR_METRICS_URL names it; "
            "retry in a moment",
        )

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
        if end <= start:
            raise InvalidInput("the window is empty: 'to' must be after 'from'")
        step = fit_step(end - start, resolution_for(end - start), step)
        first = start // step * step
        count = math.ceil((end - first) / step)
        if not names:
            return Answer(first, end, step, f"{step}s", [])
        wanted = selector(cluster, names, [host] if host is not None else [])
        # Evaluated at a step's end, one second back: the points at [t, t + step).
        promql = f"avg_over_time({wanted}[{step}s] offset 1s) keep_metric_names"
        params: dict[str, str | int] = {
            "query": promql,
            "start": first + step,
            "end": first + count * step,
            "step": f"{step}s",
        }
        found: list[tuple[str, str, dict[str, str], dict[int, float]]] = []
        for result in await self._get(QUERY_RANGE, params):
            name, host_of, labels = _series(result)
            if name not in names:
                continue
            values: dict[int, float] = {}
            for t, text in result.get("values") or ():
                value = _value(text)
                if value is not None:
                    values[(int(float(t)) - step - first) // step] = value
            found.append((name, host_of, labels, values))
        order = {n: i for i, n in enumerate(names)}
        found.sort(key=lambda f: (order[f[0]], f[1], labels_text(f[2].items())))
        return Answer(
            first,
            end,
            step,
            f"{step}s",
            [
                SeriesPoints(
                    i,
                    name,
                    host_of,
                    labels,
                    [(first + n * step, values.get(n)) for n in range(count)],
                )
                for i, (name, host_of, labels, values) in enumerate(found)
            ],
        )

    async def latest(
        self, cluster: str, series: Sequence[SeriesPoints]
    ) -> dict[int, tuple[int, float]]:
        if not series:
            return {}
        wanted = selector(cluster, {s.name for s in series}, {s.host for s in series})
        now = int(time.time())
        window = f"[{self.lookback}s]"
        values, times = await asyncio.gather(
            self._get(
                QUERY, {"query": f"last_over_time({wanted}{window}) keep_metric_names", "time": now}
            ),
            self._get(
                QUERY,
                {"query": f"tlast_over_time({wanted}{window}) keep_metric_names", "time": now},
            ),
        )
        ids = {(s.name, s.host, labels_text(s.labels.items())): s.id for s in series}

        def keyed(results: list[dict[str, Any]]) -> dict[int, float]:
            out = {}
            for result in results:
                name, host, labels = _series(result)
                found = ids.get((name, host, labels_text(labels.items())))
                value = _value((result.get("value") or [None, ""])[1])
                if found is not None and value is not None:
                    out[found] = value
            return out

        at = keyed(times)
        return {i: (int(at[i]), v) for i, v in keyed(values).items() if i in at}
