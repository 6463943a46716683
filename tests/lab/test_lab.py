"""The lab's hosts behave like separate servers, and its fault verbs do what they say."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clustermgr.errors import HostUnreachable
from clustermgr.lab import hosts, net, service
from clustermgr.lab.config import HostState
from clustermgr.remote.hostkeys import scan_host_key
from clustermgr.remote.target import SshTarget
from clustermgr.settings import Settings
from labfixture import SLOT, Lab, eventually, lab_config, tcp_open

pytestmark = pytest.mark.integration


async def test_up_registers_every_host_and_preflight_passes(lab: Lab) -> None:
    from clustermgr.services.preflight import Status, check_servers

    async with lab.access() as access:
        assert sorted(access.servers) == ["idp1.lab.test", "idp2.lab.test", "proxy1.lab.test"]
        report = await check_servers(access, list(access.servers.values()))
    failed = [c for c in report.checks if c.status is Status.FAIL]
    assert report.ok, failed


async def test_up_again_is_harmless(lab: Lab) -> None:
    before = {s.name: s.init_pid for s in service.status(lab.config)}
    rows = await service.up(lab.config, lab.settings)
    assert {s.name: s.init_pid for s in rows} == before
    assert all(s.state is HostState.RUNNING for s in rows)


async def test_host_sees_only_its_own_processes_and_files(lab: Lab) -> None:
    out = await lab.sh(
        "idp1",
        'ps -e -o pid=,args= ; echo ---; ls -A /root; echo ---; ls "$1" "$2" 2>&1 || true',
        str(lab.config.state_dir),
        str(lab.settings.data_dir),
    )
    processes, root_files, hidden = out.split("---\n")
    inits = [line.split(None, 1) for line in processes.splitlines() if "hostinit.py" in line]
    assert [pid for pid, _ in inits] == ["1"], "one init, its own, as PID 1"
    assert "hosts/idp1/boot.json" in inits[0][1]
    assert all(hosts.init_pid(h.netns) for h in lab.config.hosts()), "the others run too"
    runner = Path("/proc/self/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    assert runner not in processes, "the machine's own processes are not visible"
    assert "slapd" in processes and "nginx: master" in processes, "its own services are"
    assert root_files.split() == [".ssh"], "an empty /root of its own"
    assert hidden.count("No such file or directory") == 2, "the manager's files are hidden"


async def test_etc_change_stays_on_its_host(lab: Lab) -> None:
    marker = f"/etc/lab-marker-{os.getpid()}"
    await lab.sh("idp1", f"echo idp1 > {marker}")
    assert (await lab.sh("idp1", f"cat {marker}")).strip() == "idp1"
    assert (await lab.sh("idp2", f"test -e {marker} && echo yes || echo no")).strip() == "no"
    assert not Path(marker).exists(), "the machine's own /etc is untouched"
    await lab.sh("idp1", f"rm {marker}")


async def test_host_keys_differ_per_host(lab: Lab) -> None:
    presented = [
        await scan_host_key(SshTarget(h.fqdn, h.address), timeout=5) for h in lab.config.hosts()
    ]
    assert len({k.fingerprint for k in presented}) == len(presented)
    async with lab.access() as access:
        pinned = {name: s.host_keys for name, s in access.servers.items()}
    assert {h.fqdn: (k,) for h, k in zip(lab.config.hosts(), presented, strict=True)} == pinned


async def test_power_cut_host_comes_back_on_its_disk_with_enabled_services(lab: Lab) -> None:
    await lab.sh(
        "proxy1",
        "echo kept > /var/lib/lab-disk-marker; "
        "update-rc.d redis-server defaults >/dev/null 2>&1; "
        "update-rc.d redis-server enable >/dev/null 2>&1; service redis-server start",
    )
    assert (await lab.sh("proxy1", "redis-cli ping")).strip() == "PONG"
    host = lab.host("proxy1")
    lab.stop("proxy1", power_cut=True)
    assert hosts.state(host) is HostState.STOPPED
    assert not tcp_open(host.address, 22)
    lab.start("proxy1")
    assert (await lab.sh("proxy1", "cat /var/lib/lab-disk-marker")).strip() == "kept"

    async def redis_up() -> bool:
        return "PONG" in await lab.sh("proxy1", "redis-cli ping 2>&1 || true")

    await eventually(
        redis_up, timeout=15, interval=0.2, what="redis did not come back after the reboot"
    )
    await lab.sh(
        "proxy1",
        "service redis-server stop; update-rc.d redis-server disable "
        ">/dev/null 2>&1; rm /var/lib/lab-disk-marker",
    )


async def test_clean_stop_runs_the_shutdown(lab: Lab) -> None:
    host = lab.host("proxy1")
    lab.stop("proxy1")
    console = (lab.config.host_dir("proxy1") / "console.log").read_text()
    assert console.rstrip().endswith("init: halted")
    assert hosts.state(host) is HostState.STOPPED
    lab.start("proxy1")
    assert hosts.state(host) is HostState.RUNNING


async def test_partitioned_host_is_unreachable_until_healed(lab: Lab) -> None:
    host = lab.host("idp2")
    lab.partition("idp2")
    try:
        assert not tcp_open(host.address, 22)
        assert [s.partitioned for s in service.status(lab.config) if s.name == "idp2"] == [True]
        with pytest.raises(HostUnreachable):
            async with lab.access() as access:
                await access.connection(host.fqdn)
        assert hosts.state(host) is HostState.RUNNING, "cut off, not down"
    finally:
        lab.heal("idp2")
    await eventually(lambda: tcp_open(host.address, 22), what="idp2 reachable after heal")
    assert (await lab.sh("idp2", "hostname -f")).strip() == "idp2.lab.test"


def leftovers(prefix: str, state_dir: Path) -> list[str]:
    found = [f"netns {n}" for n in net.netns_list(prefix)]
    found += [f"link {n}" for n in net.links_with_prefix(prefix)]
    mounts = Path("/proc/self/mounts").read_text()
    found += [line for line in mounts.splitlines() if str(state_dir) in line]
    if state_dir.exists():
        found.append(f"folder {state_dir}")
    return found


async def test_down_after_a_killed_up_cleans_everything(tmp_path: Path) -> None:
    """An `up` killed while booting hosts leaves nothing behind once `down` ran."""
    settings = Settings(data_dir=tmp_path / "manager")
    prefix, subnet = SLOT.spare()
    config = lab_config(tmp_path / "lab", prefix=prefix, subnet=subnet, identity_nodes=4)
    script = (
        "import asyncio; from pathlib import Path\n"
        "from clustermgr.lab import service; from clustermgr.lab.config import LabConfig\n"
        "from clustermgr.settings import Settings\n"
        f"config = LabConfig(state_dir=Path({str(config.state_dir)!r}), prefix={prefix!r}, "
        f"subnet={subnet!r}, identity_nodes=4)\n"
        f"asyncio.run(service.up(config, Settings(data_dir=Path({str(settings.data_dir)!r}))))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        await eventually(
            lambda: (
                len(net.netns_list(prefix)) >= 2
                and any(hosts.init_pid(n) for n in net.netns_list(prefix))
            ),
            timeout=30,
            what="the up got halfway",
        )
    finally:
        proc.kill()
        proc.wait()
    assert leftovers(prefix, config.state_dir), "the killed up left a half-made lab"
    running = [n for n in net.netns_list(prefix) if hosts.processes_in(n)]
    assert running, "some hosts were running when up was killed"
    removed = await service.down(config, settings)
    assert any(line.startswith("processes of") for line in removed)
    assert leftovers(prefix, config.state_dir) == []
    assert all(hosts.processes_in(f"{prefix}-{h.name}") == [] for h in config.hosts())
