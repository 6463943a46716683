"""Whether a cluster's load balancer is set up: a flag ``lb apply`` records (no SSH to read it)."""

from __future__ import annotations

from clustermgr.components.lb import settingsstore as lb_settings
from clustermgr.components.lb.component import COMPONENT
from clustermgr.components.lb.watch import LbWatch
from clustermgr.core.manager import Manager
from clustermgr.inventory.schemas import ServerSpec

PORTS = iter(range(2000, 3000))


async def add(manager: Manager, cluster: str, *roles: str) -> None:
    async with manager.store() as inventory:
        for n, role in enumerate(roles, start=1):
            spec = ServerSpec.parse(
                cluster=cluster,
                hostname=f"{role}{n}.{cluster}.test",
                address="127.0.0.1",
                role=role,
                ssh_port=next(PORTS),
            )
            await inventory.add_server(spec, None, [])


async def test_only_an_applied_balancer_is_set_up_and_watched(manager: Manager) -> None:
    await add(manager, "a", "proxy", "identity", "identity")
    await add(manager, "b", "proxy", "identity")
    await add(manager, "c", "identity")
    watch = LbWatch(manager)
    assert COMPONENT.watch is LbWatch and watch.name == "lb"
    assert await watch.clusters() == [] and not await COMPONENT.set_up(manager, "a")

    await lb_settings.mark_applied(manager, "a")
    assert await watch.clusters() == ["a"]
    assert await COMPONENT.set_up(manager, "a") and not await COMPONENT.set_up(manager, "b")

    # A person's settings change keeps the flag: only `lb apply` sets it.
    await lb_settings.change(manager, "a", {"locations": {"/oxauth": "backend_id"}}, actor="t")
    assert await lb_settings.set_drained(manager, "a", "identity2.a.test", True)
    kept = await lb_settings.lb_settings(manager, "a")
    assert kept.applied and kept.drained == ["identity2.a.test"]
    assert await lb_settings.set_drained(manager, "a", "identity2.a.test", False)
    assert (await lb_settings.lb_settings(manager, "a")).applied
    assert await watch.clusters() == ["a"]
