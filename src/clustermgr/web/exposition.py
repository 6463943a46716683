"""``GET /metrics``: the clusters' health in the Prometheus exposition format, for a
Prometheus (or VictoriaMetrics) of the user's to scrape.

Behind an API token like every API route (``Authorization: Bearer TOKEN``: a
scrape job's ``authorization: {credentials: TOKEN}``); without a valid one the
answer is a plain 401.  Every gauge is ``clustermgr_...`` with a ``cluster``
label: ``clustermgr_alerts_open{component,severity}``,
``clustermgr_check_timestamp_seconds{component}``, the newest samples as
``clustermgr_<component>_<metric>{host,peer}`` (``clustermgr_ldap_lag_seconds``,
``clustermgr_ldap_probe_seconds``...), and each component's own gauges
(``clustermgr_cache_hop_up``, ``clustermgr_lb_backend_healthy``...).
``prometheus-client`` renders them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Metric, generate_latest
from prometheus_client.registry import Collector

from clustermgr.components.contract import Component
from clustermgr.errors import NotAuthenticated
from clustermgr.monitor.exposition import GaugesOf, Health, health, metric_name
from clustermgr.web.deps import WebDep, bearer, token_user

PREFIX = "clustermgr"


class _Health(Collector):
    def __init__(self, found: Health) -> None:
        self.found = found

    def collect(self) -> Iterable[Metric]:
        families: dict[str, Metric] = {}
        for cluster, component, gauge in self.found.gauges:
            name = metric_name(PREFIX, *([component] if component else []), gauge.name)
            family = families.get(name)
            if family is None:
                family = families[name] = Metric(name, gauge.help, "gauge")
            family.add_sample(name, {"cluster": cluster, **gauge.labels}, gauge.value)
        return families.values()


def render(found: Health) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Health(found))
    return generate_latest(registry)


def router(components: Sequence[Component]) -> APIRouter:
    """The ``/metrics`` route, with the gauges of ``components`` that have some."""
    routes = APIRouter()

    @routes.get("/metrics", include_in_schema=False)
    async def exposition(
        web: WebDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Response:
        try:
            await token_user(web, credentials)
        except NotAuthenticated as refused:
            return PlainTextResponse(
                f"{refused.message}\n", status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        gauges_of: dict[str, GaugesOf] = {}
        for c in components:
            own = c.gauges
            if own is not None:
                gauges_of[c.name] = own
        body = render(await health(web.manager, gauges_of))
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return routes
