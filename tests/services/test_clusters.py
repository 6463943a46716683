"""A cluster's own settings: the public hostname, changed by admins only, audited, and
taken by the load balancer as its server name and the issuer every node must serve."""

from __future__ import annotations

import pytest

from clustermgr.audit import service as audit
from clustermgr.auth.roles import UserRole
from clustermgr.components.lb import apply as lb
from clustermgr.core.access import get_cluster
from clustermgr.core.manager import Manager
from clustermgr.errors import Forbidden, InvalidInput
from clustermgr.inventory.schemas import ServerSpec
from clustermgr.services import clusters


async def add(manager: Manager, hostname: str, role: str) -> None:
    spec = ServerSpec.parse(cluster="c", hostname=hostname, address=None, role=role)
    async with manager.store() as store:
        await store.add_server(spec, None, [])


async def test_the_public_hostname_is_set_kept_beside_components_and_reset(
    manager: Manager,
) -> None:
    await add(manager, "idp1.example.org", "identity")
    await add(manager, "lb1.example.org", "proxy")
    async with manager.store() as store:
        store.set_component_settings(await store.cluster("c"), "lb", {"drained": []})
    assert (await get_cluster(manager, "c")).public_hostname == "lb1.example.org"

    view = await clusters.change_settings(
        manager, "c", {"public_hostname": "IdP.Example.org"}, actor="alice"
    )
    assert (view.public_hostname, view.issuer) == ("idp.example.org", "https://idp.example.org")
    again = await get_cluster(manager, "c")
    assert again.settings.public_hostname == "idp.example.org"
    assert again.settings.components == {"lb": {"drained": []}}, "other settings kept"
    want = await lb.desired(manager, "c")
    assert want.balancer.server_name == "idp.example.org"
    assert want.balancer.proxy == "lb1.example.org"
    assert want.issuer == "https://idp.example.org"

    view = await clusters.change_settings(manager, "c", {"public_hostname": None}, actor="alice")
    assert (view.public_hostname, view.settings.public_hostname) == ("lb1.example.org", None)
    assert (await lb.desired(manager, "c")).issuer == "https://lb1.example.org"


async def test_a_bad_value_or_a_non_admin_changes_nothing_and_is_audited(
    manager: Manager,
) -> None:
    await add(manager, "lb1.example.org", "proxy")
    await clusters.change_settings(manager, "c", {"public_hostname": "idp.example.org"}, actor="a")
    with pytest.raises(InvalidInput, match=r"public_hostname: 'idp example.org' is not a DNS"):
        await clusters.change_settings(
            manager, "c", {"public_hostname": "idp example.org"}, actor="a"
        )
    with pytest.raises(InvalidInput, match="Extra inputs"):
        await clusters.change_settings(manager, "c", {"hosts_file": "/tmp/h"}, actor="a")
    with pytest.raises(Forbidden, match="needs the admin role"):
        await clusters.change_settings(
            manager, "c", {"public_hostname": "x.example.org"}, actor="o", as_role=UserRole.OPERATOR
        )
    view = await get_cluster(manager, "c")
    assert view.settings.public_hostname == "idp.example.org"
    assert view.settings.hosts_file == "/etc/hosts"
    rows = [(e.actor, e.action, e.result) for e in await audit.entries(manager)]
    assert rows == [
        ("o", "cluster.settings", "refused"),
        ("a", "cluster.settings", "failed"),
        ("a", "cluster.settings", "failed"),
        ("a", "cluster.settings", "ok"),
    ]
