"""Helpers of the cache lab tests: a lab of their own, apply, status."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from clustermgr.components.cache import apply as cache
from clustermgr.components.cache import status as cachestatus
from clustermgr.components.cache.model import Provider
from clustermgr.core.manager import Manager
from clustermgr.plan.events import Emit, Event, ignore
from labfixture import SLOT, Lab, running_lab
from ldaplab import replicate
from polling import eventually


@asynccontextmanager
async def cache_lab(base: Path, identity_nodes: int = 2) -> AsyncIterator[Lab]:
    """Identity nodes (two unless told) replicating LDAP, and a proxy: the chain's hosts."""
    prefix, subnet = SLOT.spare()
    async with running_lab(
        base, prefix=prefix, subnet=subnet, identity_nodes=identity_nodes
    ) as lab:
        report = await replicate(lab)
        assert report["ok"], report
        yield lab


async def configure(
    lab: Lab,
    *,
    dry_run: bool = False,
    provider: Provider = Provider.REDIS,
    events: list[Event] | None = None,
    emit: Emit | None = None,
) -> dict[str, Any]:
    """Apply (or plan) the cache; its events go to ``events`` or to ``emit``."""
    if emit is None:
        emit = events.append if events is not None else ignore
    manager = await Manager.open(lab.settings)
    try:
        report = await cache.apply(
            manager,
            lab.config.cluster,
            dry_run=dry_run,
            provider=provider,
            emit=emit,
        )
    finally:
        await manager.close()
    return report.as_dict()


async def chain_status(lab: Lab) -> cachestatus.CacheStatus:
    manager = await Manager.open(lab.settings)
    try:
        return await cachestatus.status(manager, lab.config.cluster)
    finally:
        await manager.close()


def outcomes(report: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = report["counts"]
    return {k: v for k, v in counts.items() if v}


async def wait_chain_ok(lab: Lab, timeout: float = 15.0) -> cachestatus.CacheStatus:
    """Poll status until it finds no problem (twemproxy retries an ejected server after
    its retry timeout), or fail with the last problems."""
    return await eventually(
        lambda: chain_status(lab),
        until=lambda status: status.ok,
        timeout=timeout,
        interval=0.5,
        what="the cache chain has problems",
        show=lambda status: repr(status.problems),
    )


async def cache_config(lab: Lab, node: str) -> dict[str, Any]:
    """oxCacheConfiguration as ``node``'s LDAP holds it."""
    out = await lab.sh(
        node,
        "ldapsearch -Q -LLL -o ldif-wrap=no -Y EXTERNAL -H ldapi:/// "
        "-b ou=configuration,o=gluu -s base oxCacheConfiguration",
    )
    line = next(x for x in out.splitlines() if x.startswith("oxCacheConfiguration"))
    value = line.split(":", 1)[1]
    if value.startswith(":"):
        value = base64.b64decode(value[1:].strip()).decode()
    config: dict[str, Any] = json.loads(value)
    return config


async def eventually_config(lab: Lab, node: str, provider: str, timeout: float = 15) -> None:
    """Replication carries the change: wait for ``provider`` on ``node``."""
    deadline = time.monotonic() + timeout
    while (await cache_config(lab, node))["cacheProviderType"] != provider:
        assert time.monotonic() < deadline, f"{node} does not name {provider}"
        await asyncio.sleep(0.3)
