"""The reachability matrix on a lab of 2 identity nodes and a proxy.

One pair is blocked by a packet filter rule inside a host (nftables, in that
host's own network namespace): the matrix names that pair, with the rule that
would open it, and nothing else; and no temporary listener outlives the check.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from clustermgr.services import netprobe
from clustermgr.services.preflight import Status, check_servers
from clustermgr.services.reachability import MANAGER, State
from labfixture import SLOT, Lab, running_lab

pytestmark = pytest.mark.integration

#: A table of the test's own, so removing it removes the block and nothing else.
BLOCK = """\
nft add table inet cmtest
nft add chain inet cmtest input '{ type filter hook input priority 0; policy accept; }'
nft add rule inet cmtest input ip saddr "$1" tcp dport "$2" drop
"""
UNBLOCK = "nft delete table inet cmtest 2>/dev/null || true"

#: The command line of every process holding a listening TCP socket on the host.
LISTENERS = """\
ss -Hltnp | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u | while read -r pid; do
  tr '\\0' ' ' < "/proc/$pid/cmdline"; echo
done
"""


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    prefix, subnet = SLOT.spare()
    base = tmp_path_factory.mktemp("reach-lab")
    async with running_lab(base, prefix=prefix, subnet=subnet) as running:
        yield running


async def _no_listener_left(lab: Lab) -> None:
    for host in lab.config.hosts():
        held = await lab.sh(host.name, LISTENERS)
        assert netprobe.MARKER not in held, f"{host.name} still runs a temporary listener:\n{held}"


async def test_one_blocked_pair_is_named_with_its_rule_and_nothing_else(lab: Lab) -> None:
    idp1, idp2 = lab.host("idp1"), lab.host("idp2")
    await lab.sh("idp2", BLOCK, idp1.address, "636")
    try:
        async with lab.access() as access:
            report = await check_servers(access, list(access.servers.values()))
    finally:
        await lab.sh("idp2", UNBLOCK)
    matrix = report.network
    assert matrix is not None
    assert not report.ok
    states = {(r.pair.source, r.pair.destination, r.pair.port): r for r in matrix.results}
    assert [(r.pair.source, r.pair.destination, r.pair.port) for r in matrix.blocked] == [
        (idp1.fqdn, idp2.fqdn, 636)
    ], [r.as_dict() for r in matrix.results if r.state is not State.OPEN]
    blocked = matrix.blocked[0]
    assert blocked.state is State.FILTERED
    assert blocked.rule == (
        f"nft insert rule inet filter input ip saddr {idp1.address} tcp dport 636 accept"
    )
    others = [r for r in matrix.results if r is not blocked]
    assert all(r.state is State.OPEN for r in others), [r.as_dict() for r in others]
    # The reverse direction and the other port between the same two nodes stay open.
    assert states[(idp2.fqdn, idp1.fqdn, 636)].state is State.OPEN
    assert states[(idp1.fqdn, idp2.fqdn, 389)].state is State.OPEN
    assert {r.pair.destination for r in matrix.results if r.pair.source == MANAGER} == {
        h.fqdn for h in lab.config.hosts()
    }
    # The source's own verdict names the pair; every other member's network passes.
    network = {c.host: c for c in report.checks if c.name == "network"}
    assert set(network) == {h.fqdn for h in lab.config.hosts()}
    assert network[idp1.fqdn].status is Status.FAIL
    assert network[idp1.fqdn].detail == f"1 of 3 not open: {idp2.fqdn}:636 filtered"
    assert {c.status for h, c in network.items() if h != idp1.fqdn} == {Status.PASS}
    # Some port had no service yet: a temporary listener answered it...
    assert any("temporary listener" in r.detail for r in others), [r.detail for r in others]
    # ...and none is left running.
    await _no_listener_left(lab)
    # Unblocked, every pair connects and the preflight passes.
    async with lab.access() as access:
        again = await check_servers(access, list(access.servers.values()))
    assert again.network is not None and again.network.ok, again.as_dict()["network"]
    await _no_listener_left(lab)
