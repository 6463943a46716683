"""Benchmark: adding and removing an identity node of a serving cluster, under a steady
login loop through the balancer.

Run as root on demand (not part of the test suite):

    .venv/bin/python benchmarks/lifecycle.py [--rate 4]

Brings up a lab of its own with the tests' harness (a spare prefix and subnet of the
test slot it takes; three identity nodes and a proxy, idp3 left out of the inventory
before the install), sets up Gluu Server, LDAP replication, the cache and the balancer
on idp1 and idp2, then, while the login loop runs (each token validated on another
node than the one that issued it):

1. ``node-add`` of idp3: the seconds it took and the failed requests;
2. ``node-remove`` of idp2 with ``--uninstall``: the same.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))

from cachelab import configure
from clustermgr.components import registry
from clustermgr.components.contract import lifecycle
from clustermgr.core.manager import Manager
from clustermgr.inventory.schemas import NodeState, ServerSpec
from clustermgr.jobs.kinds import JobContext
from clustermgr.jobs.lifecycle import NodeAddParams, NodeRemoveParams
from clustermgr.lab import hosts
from clustermgr.plan.events import ignore
from clustermgr.redact import Secret
from clustermgr.remote.target import HostKey
from clustermgr.services import servers
from clustermgr.topology import Role
from labfixture import SLOT, Lab, install_gluu, running_lab
from lblab import balance
from ldaplab import replicate
from loginloop import looping


async def _run(lab: Lab, params: Any) -> tuple[bool, float]:
    manager = await Manager.open(lab.settings)
    try:
        ctx = JobContext(manager, lab.config.cluster, params, ignore, lambda: False, actor="bench")
        nodes = lifecycle(registry.COMPONENTS)
        started = time.monotonic()
        if isinstance(params, NodeAddParams):
            report = await nodes.add(ctx)
        else:
            report = await nodes.remove(ctx)
        return report.ok, time.monotonic() - started
    finally:
        await manager.close()


async def _joining(lab: Lab, name: str) -> None:
    host = lab.host(name)
    key = servers.SshKeyInput(Secret.held(lab.config.ssh_key.read_text(), label="lab-ssh-key"))
    pinned = HostKey.from_openssh(hosts.host_key_line(lab.config, host))
    spec = ServerSpec(
        lab.config.cluster, host.fqdn, host.address, Role.IDENTITY, state=NodeState.JOINING
    )
    manager = await Manager.open(lab.settings)
    try:
        await servers.add_server(manager, spec, key, host_keys=[pinned], actor="bench")
    finally:
        await manager.close()


async def _prepare(lab: Lab) -> None:
    manager = await Manager.open(lab.settings)
    try:
        await servers.remove_server(manager, lab.config.cluster, lab.host("idp3").fqdn)
    finally:
        await manager.close()
    await install_gluu(lab)
    for step in (replicate, configure, balance):
        report = await step(lab)
        if not report["ok"]:
            raise SystemExit(f"{step.__name__} failed")


async def measure(rate: float) -> dict[str, Any]:
    prefix, subnet = SLOT.spare()
    out: dict[str, Any] = {"rate": rate}
    with tempfile.TemporaryDirectory(prefix="cmblife-") as tmp:
        async with running_lab(
            Path(tmp), gluu=False, prefix=prefix, subnet=subnet, identity_nodes=3
        ) as lab:
            await _prepare(lab)
            await _joining(lab, "idp3")
            async with looping(lab, ["idp1", "idp2"], rate=rate) as loop:
                await loop.wait_logins(int(rate * 2))
                ok, seconds = await _run(lab, NodeAddParams(node=lab.host("idp3").fqdn))
                loop.validators.add("idp3")
                await loop.wait_logins(int(rate * 5))
            out["add"] = _result(ok, seconds, loop)
            async with looping(lab, ["idp1", "idp3"], rate=rate) as loop:
                await loop.wait_logins(int(rate * 2))
                params = NodeRemoveParams(node=lab.host("idp2").fqdn, uninstall=True)
                ok, seconds = await _run(lab, params)
                await loop.wait_logins(int(rate * 5))
            out["remove"] = _result(ok, seconds, loop)
    return out


def _result(ok: bool, seconds: float, loop: Any) -> dict[str, Any]:
    return {
        "ok": ok,
        "seconds": round(seconds, 2),
        "logins": loop.logins,
        "validations": loop.validations,
        "failed": len(loop.failures),
        "failures": [str(f) for f in loop.failures[:10]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=4.0, help="logins per second")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.rate)), indent=2))


if __name__ == "__main__":
    main()
