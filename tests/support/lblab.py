"""Helpers of the load balancer tests: apply, and requests through the balancer."""

from __future__ import annotations

from typing import Any

import httpx

from clustermgr.components.lb import apply as lb
from clustermgr.components.lb import settingsstore as lb_settings
from clustermgr.components.lb.settings import LbSettings
from clustermgr.core.manager import Manager
from labfixture import Lab

SERVED_BY = "X-Served-By"


async def balance(lab: Lab, *, dry_run: bool = False) -> dict[str, Any]:
    """`lb apply` (or `lb plan`) on the lab's cluster; the report as a dict."""
    manager = await Manager.open(lab.settings)
    try:
        report = await lb.apply(manager, lab.config.cluster, dry_run=dry_run)
    finally:
        await manager.close()
    return report.as_dict()


async def settings_of(lab: Lab) -> LbSettings:
    manager = await Manager.open(lab.settings)
    try:
        return await lb_settings.lb_settings(manager, lab.config.cluster)
    finally:
        await manager.close()


def only_unchanged(report: dict[str, Any]) -> bool:
    counts = report["counts"]
    return bool(counts["unchanged"]) and all(
        n == 0 for outcome, n in counts.items() if outcome != "unchanged"
    )


def client() -> httpx.Client:
    """A client of the balancer (its certificate is checked in a test of its own)."""
    return httpx.Client(verify=False, timeout=10)


def served_by(http: httpx.Client, url: str) -> str:
    """The short name of the node that answered ``url`` (the lab nodes name themselves)."""
    response = http.get(url)
    assert response.status_code < 500, (url, response.status_code, response.text)
    return response.headers[SERVED_BY].split(".", 1)[0]


def proxy_url(lab: Lab, path: str, scheme: str = "https") -> str:
    return f"{scheme}://{lab.host('proxy1').address}{path}"


def oxauth_url(lab: Lab) -> str:
    return proxy_url(lab, "/oxauth/.well-known/openid-configuration")
