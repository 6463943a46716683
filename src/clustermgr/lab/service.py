"""The lab's verbs: up, down, status, start, stop, partition, heal, exec.

``up`` is harmless on a running lab (it only adds what is missing); ``down``
finds everything by the lab's prefix, so it also cleans up after an ``up``
that crashed or was killed before writing anything down.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from sqlalchemy.engine import make_url

from clustermgr.core.manager import Manager
from clustermgr.errors import NotFound
from clustermgr.inventory.schemas import ServerSpec
from clustermgr.lab import aptrepo, hosts, net
from clustermgr.lab.config import HostState, LabConfig, LabHost
from clustermgr.lab.net import LabError
from clustermgr.redact import Secret
from clustermgr.remote.target import HostKey
from clustermgr.services import clusters, servers
from clustermgr.settings import Settings
from clustermgr.words import count

Say = Callable[[str], None]


def quiet(_: str) -> None:
    """Progress for callers that do not show it."""


@dataclass(frozen=True)
class HostStatus:
    name: str
    fqdn: str
    role: str
    address: str
    state: HostState
    partitioned: bool
    init_pid: int | None

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["state"] = self.state.value
        return data


def default_state_dir(settings: Settings) -> Path:
    return settings.data_dir / "lab"


def load_config(state_dir: Path) -> LabConfig:
    """The lab as ``up`` last made it, or the default lab when there is none."""
    try:
        saved = json.loads((state_dir / "lab.json").read_text())
    except FileNotFoundError:
        return LabConfig(state_dir=state_dir)
    known = {f.name for f in fields(LabConfig)}
    return LabConfig(state_dir=state_dir, **{k: v for k, v in saved.items() if k in known})


def save_config(config: LabConfig) -> None:
    config.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = asdict(config)
    data.pop("state_dir")
    config.state_file.write_text(json.dumps(data, indent=2) + "\n")


#: The live root's top-level folders a lab host sees: the operating system's.  Every
#: other entry there (``/root``, ``/home``, ``/opt``, ``/srv``, a checkout...) is hidden.
#: ``/tmp`` and ``/run`` are the host's own, empty at each boot (:mod:`hostinit`).
SYSTEM_FOLDERS = frozenset(
    {"bin", "boot", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "run", "sbin"}
    | {"sys", "tmp", "usr", "var"}
)
#: Manager data inside the system folders: the default data folder of a manager run
#: as root (the key, the SQLite database, its lab's signing key), the local PostgreSQL
#: an inventory may live in, and the machine's other temporary folder.
MANAGER_DATA = ("/var/lib/clustermgr", "/var/lib/postgresql", "/var/tmp")
#: The machine's apt package lists: a lab host starts as a server that fetched none
#: (its packages are installed, its sources configured).  apt on the host then reads
#: only the lists the host refreshed itself (the lab repository's), not the machine's
#: whole distribution's, which it would parse again at every run.
FRESH_STATE = ("/var/lib/apt/lists",)


def hidden_from_hosts(config: LabConfig, settings: Settings) -> list[str]:
    """Paths of the live root that hosts must not see: every manager's data, this one's
    wherever its settings put it, every top-level folder but the system's, and the
    machine's package lists (:data:`FRESH_STATE`).

    A real server never reads the manager's key, database or another lab's signing key:
    neither can a lab host, so no test passes by reading what a server could not.
    """
    own = [settings.data_dir, settings.effective_secret_key_file, config.state_dir]
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        own.append(Path(url.database))
    paths = [str(p.resolve()) for p in own]
    for path in paths:
        if path == "/" or path.strip("/") in SYSTEM_FOLDERS:
            raise LabError(
                f"the manager keeps its data in {path}, a folder every lab host needs",
                hint="give CLUSTERMGR_DATA_DIR (and the key and database) a folder of their own",
            )
    top = [f"/{entry}" for entry in os.listdir("/") if entry not in SYSTEM_FOLDERS]
    return sorted({*top, *MANAGER_DATA, *FRESH_STATE, *paths})


# --- up / down --------------------------------------------------------------


async def up(config: LabConfig, settings: Settings, say: Say = quiet) -> list[HostStatus]:
    started = time.monotonic()
    check_prerequisites()
    save_config(config)
    hosts.keygen(config.ssh_key, f"clustermgr-lab@{config.prefix}")
    net.ensure_bridge(config)
    aptrepo.publish(config)
    aptrepo.serve(config)
    say(f"apt repository at {config.apt_repo.url} ({config.apt_repo.deb.name})")
    lab_hosts = config.hosts()
    for host in lab_hosts:
        net.ensure_host_network(config, host, partitioned=_partitioned(config, host))
        boot_file = hosts.prepare(config, host, hidden_from_hosts(config, settings))
        if hosts.init_pid(host.netns) is None:
            say(f"booting {host.name} ({host.address})")
            hosts.boot(config, host, boot_file)
    for host in lab_hosts:
        if not _partitioned(config, host):
            await asyncio.to_thread(hosts.wait_for_ssh, host)
    say(f"{count(len(lab_hosts), 'host')} answer SSH ({time.monotonic() - started:.1f} s)")
    await register(config, settings, say)
    say(f"lab ready in {time.monotonic() - started:.1f} s")
    return status(config)


def _partitioned(config: LabConfig, host: LabHost) -> bool:
    return (config.host_dir(host.name) / "partitioned").exists()


async def register(config: LabConfig, settings: Settings, say: Say = quiet) -> None:
    """Put the lab in the inventory as cluster ``config.cluster``, host keys pinned."""
    manager = await Manager.open(settings)
    try:
        known = {c.name: c for c in await servers.list_clusters(manager)}
        existing = (
            {s.hostname: s for s in known[config.cluster].servers}
            if config.cluster in known
            else {}
        )
        key = servers.SshKeyInput(Secret.held(config.ssh_key.read_text(), label="lab-ssh-key"))
        for host in config.hosts():
            pinned = HostKey.from_openssh(hosts.host_key_line(config, host))
            current = existing.get(host.fqdn)
            if current is not None and current.host_keys == (pinned,):
                continue
            if current is not None:
                await servers.remove_server(manager, config.cluster, host.fqdn)
            spec = ServerSpec.parse(
                cluster=config.cluster,
                hostname=host.fqdn,
                address=host.address,
                role=host.role.value,
            )
            await servers.add_server(manager, spec, key, host_keys=[pinned])
            say(f"registered {host.fqdn} in cluster {config.cluster} ({pinned})")
    finally:
        await manager.close()


async def down(config: LabConfig, settings: Settings, say: Say = quiet) -> list[str]:
    """Stop every host and the apt repository's server, remove namespaces, links and
    disks, and the inventory entry."""
    removed = []
    for netns in net.netns_list(config.prefix):
        if hosts.processes_in(netns):
            hosts.kill_all(netns)
            removed.append(f"processes of {netns}")
    if aptrepo.stop(config):
        removed.append(f"the apt repository's server on {config.apt_repo.url}")
    removed += net.remove_all(config)
    if config.state_dir.exists():
        shutil.rmtree(config.state_dir)
        removed.append(f"folder {config.state_dir}")
    manager = await Manager.open(settings)
    try:
        await clusters.remove_cluster(manager, config.cluster)
        removed.append(f"cluster {config.cluster} from the inventory")
    except NotFound:
        pass
    finally:
        await manager.close()
    for line in removed:
        say(f"removed {line}")
    return removed


# --- status and fault verbs ---------------------------------------------------


def status(config: LabConfig) -> list[HostStatus]:
    out = []
    for host in config.hosts():
        up_flag = net.link_is_up(host.veth)
        out.append(
            HostStatus(
                host.name,
                host.fqdn,
                host.role.value,
                host.address,
                hosts.state(host),
                up_flag is False,
                hosts.init_pid(host.netns),
            )
        )
    return out


def _existing(config: LabConfig, name: str) -> LabHost:
    try:
        host = config.host(name)
    except KeyError as exc:
        raise NotFound(str(exc.args[0]), hint="see `clustermgr lab status`") from None
    if hosts.state(host) is HostState.ABSENT:
        raise LabError(f"{host.name} does not exist", hint="run `clustermgr lab up` first")
    return host


def stop(config: LabConfig, name: str, *, power_cut: bool = False) -> LabHost:
    host = _existing(config, name)
    hosts.stop(host, power_cut=power_cut)
    return host


def start(config: LabConfig, settings: Settings, name: str) -> LabHost:
    host = _existing(config, name)
    boot_file = hosts.prepare(config, host, hidden_from_hosts(config, settings))
    hosts.boot(config, host, boot_file)
    if not _partitioned(config, host):
        hosts.wait_for_ssh(host)
    return host


def partition(config: LabConfig, name: str) -> LabHost:
    host = _existing(config, name)
    (config.host_dir(host.name) / "partitioned").touch()
    net.partition(host)
    return host


def heal(config: LabConfig, name: str) -> LabHost:
    host = _existing(config, name)
    (config.host_dir(host.name) / "partitioned").unlink(missing_ok=True)
    net.heal(host)
    return host


def exec_in(config: LabConfig, name: str, argv: Sequence[str]) -> int:
    """Run a command inside a host (all its namespaces), as root; return its exit status."""
    host = _existing(config, name)
    pid = hosts.init_pid(host.netns)
    if pid is None:
        raise LabError(f"{host.name} is stopped", hint=f"clustermgr lab start {host.name}")
    return subprocess.run(["nsenter", "-t", str(pid), "-a", "--", *argv]).returncode


def check_prerequisites() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces, mounts)")
    missing = [
        tool
        for tool in (
            *("unshare", "nsenter", "pivot_root", "ssh-keygen"),
            *("dpkg-deb", "dpkg-scanpackages", "gpg", "gpgconf"),  # the apt repository
        )
        if shutil.which(tool) is None
    ]
    missing += [
        path for path in (hosts.PYTHON, "/usr/sbin/sshd", net.IP) if not Path(path).exists()
    ]
    if missing:
        raise LabError(
            f"missing on this machine: {', '.join(missing)}",
            hint="run scripts/setup.sh (installs the lab's Debian packages)",
        )
