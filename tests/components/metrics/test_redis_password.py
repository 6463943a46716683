"""Where the Redis exporter's password comes from: the one the cache sealed in the
inventory; a plan before the cache's first apply shows a stand-in, an apply refuses."""

from __future__ import annotations

import pytest

from clustermgr.components.metrics import apply as metrics
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput
from clustermgr.inventory.schemas import ServerSpec
from clustermgr.redact import Secret
from clustermgr.topology import REDIS_SECRET


async def add(manager: Manager, cluster: str, *roles: str) -> None:
    async with manager.store() as inventory:
        for n, role in enumerate(roles, start=1):
            spec = ServerSpec.parse(
                cluster=cluster,
                hostname=f"{role}{n}.{cluster}.test",
                address="127.0.0.1",
                role=role,
                ssh_port=2200 + n,
            )
            await inventory.add_server(spec, None, [])


async def test_before_the_cache_a_plan_shows_a_stand_in_and_an_apply_refuses(
    manager: Manager,
) -> None:
    await add(manager, "m", "identity", "proxy")
    planned = await metrics.redis_password(manager, "m", dry_run=True)
    assert planned is metrics.NOT_MADE_YET
    with pytest.raises(InvalidInput, match="no Redis password") as refused:
        await metrics.apply(manager, "m", dry_run=False, actor="t")
    assert "cache apply m" in (refused.value.hint or "")


async def test_the_exporter_reads_the_password_the_cache_sealed(manager: Manager) -> None:
    await add(manager, "m", "identity", "proxy")
    async with manager.store() as inventory:
        cluster = await inventory.cluster("m")
        made = await inventory.cluster_secret(cluster, REDIS_SECRET, lambda: Secret("pw-1"))
    for dry_run in (True, False):
        found = await metrics.redis_password(manager, "m", dry_run=dry_run)
        assert found.reveal() == made.reveal() == "pw-1"
