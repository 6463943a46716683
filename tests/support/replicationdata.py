"""A replicating cluster as a watcher would have recorded it, for the page's tests.

Two identity servers in the inventory (never contacted: without LDAP server ids
no watcher looks at the cluster) and cycles written through the monitor's store.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.inventory.schemas import ServerSpec
from clustermgr.monitor import store
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.monitor.store import Cycle, Measure
from clustermgr.services import clusters
from clustermgr.topology import Role

IDP1, IDP2 = "idp1.repl.test", "idp2.repl.test"
BROKEN = Finding(
    f"agreement:{IDP2}<-{IDP1}",
    Severity.CRITICAL,
    f"{IDP2} cannot replicate from {IDP1}: TLS fails",
)


def snapshot(tls_broken: bool) -> dict[str, object]:
    nodes = [
        {"host": h, "server_id": i, "state": "ok", "health": "ok", "reason": ""}
        for i, h in ((1, IDP1), (2, IDP2))
    ]
    return {
        "nodes": nodes,
        "agreements": [
            {"consumer": IDP1, "provider": IDP2, "rid": "002", "state": "ok", "reason": ""},
            {
                "consumer": IDP2,
                "provider": IDP1,
                "rid": "001",
                "state": "tls" if tls_broken else "ok",
                "reason": "certificate verify failed" if tls_broken else "",
            },
        ],
        "pairs": [
            {"host": IDP1, "peer": IDP2, "caught_up": True, "lag_seconds": 0.0},
            {"host": IDP2, "peer": IDP1, "caught_up": not tls_broken, "lag_seconds": 42.0},
        ],
        "probes": [
            {"source": IDP1, "at": utcnow().isoformat(), "seconds": {IDP2: 0.081}, "error": None}
        ],
    }


async def add_cluster(manager: Manager) -> str:
    """A new cluster with the two identity servers; its name."""
    name = f"repl-{secrets.token_hex(3)}"
    await clusters.create_cluster(manager, name)
    async with manager.store() as inventory:
        for octet, host in ((201, IDP1), (202, IDP2)):
            spec = ServerSpec(name, host, f"192.0.2.{octet}", Role.IDENTITY)
            await inventory.add_server(spec, None, [])
    return name


async def record(manager: Manager, name: str, *, broken: bool, ago: float = 0) -> None:
    """One watcher cycle, ``ago`` seconds back: the snapshot, a probe sample, the alert."""
    await store.record_cycle(
        manager,
        Cycle(
            name,
            "ldap",
            utcnow() - timedelta(seconds=ago),
            snapshot(broken),
            [Measure("probe_seconds", IDP1, IDP2, 0.05 + ago / 10_000)],
            [BROKEN] if broken else [],
        ),
    )
