"""The lab for tests: brought up once per test session, always torn down.

Each test session takes a free slot (an flock on a file under /run) and uses
that slot's prefix and subnet (``cmt<N>``, 10.236.<N>.0/24) and its own manager
data folder: it never meets a lab someone runs on the same machine, nor another
test session running at the same time.  Whatever carries a slot's prefix when
the slot is taken was left by a session that died, and is removed first.
"""

from __future__ import annotations

import fcntl
import itertools
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from clustermgr.components.install.lab import install_lab
from clustermgr.core.access import HostAccess, open_access
from clustermgr.core.manager import Manager
from clustermgr.lab import service
from clustermgr.lab.config import LabConfig, LabHost
from clustermgr.redact import Secret
from clustermgr.remote.command import Command
from clustermgr.settings import Settings
from polling import eventually as eventually  # re-exported: lab tests import it from here

SLOTS = 10
#: Labs a test session may make besides its main one.
SPARE_LABS = 30
_spares = itertools.count()
SLOT_DIR = Path("/run/clustermgr-test-labs")


@dataclass(frozen=True)
class Slot:
    number: int

    @property
    def prefix(self) -> str:
        return f"cmt{self.number}"

    @property
    def subnet(self) -> str:
        return f"10.236.{self.number}.0/24"

    def spare(self) -> tuple[str, str]:
        """Another prefix and subnet of this slot, for a test that makes its own lab.

        Each call hands out the next of :data:`SPARE_LABS` (10.<200+n>.<slot>.0/24):
        no two labs of a session, nor of two sessions, share a subnet.
        """
        n = next(_spares)
        if n >= SPARE_LABS:
            raise RuntimeError(f"a test session makes at most {SPARE_LABS} labs of its own")
        return f"cms{n}t{self.number}", f"10.{200 + n}.{self.number}.0/24"


def take_slot() -> tuple[Slot, IO[bytes]]:
    """The first free slot; it stays ours while the returned file stays open."""
    SLOT_DIR.mkdir(parents=True, exist_ok=True)
    for number in range(SLOTS):
        handle = (SLOT_DIR / f"slot-{number}.lock").open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        return Slot(number), handle
    raise RuntimeError(f"all {SLOTS} test lab slots are taken")


_slot, _slot_lock = take_slot()
SLOT = _slot
TEST_PREFIX = SLOT.prefix
TEST_SUBNET = SLOT.subnet
#: The Gluu admin's password on this session's labs: new for every session.
ADMIN_PASSWORD = Secret.held(secrets.token_urlsafe(18), label="lab-admin")


@dataclass
class Lab:
    """A running lab with the verbs tests need."""

    config: LabConfig
    settings: Settings

    def host(self, name: str) -> LabHost:
        return self.config.host(name)

    def stop(self, name: str, *, power_cut: bool = False) -> None:
        service.stop(self.config, name, power_cut=power_cut)

    def start(self, name: str) -> None:
        service.start(self.config, self.settings, name)

    def partition(self, name: str) -> None:
        service.partition(self.config, name)

    def heal(self, name: str) -> None:
        service.heal(self.config, name)

    @asynccontextmanager
    async def access(self) -> AsyncIterator[HostAccess]:
        """SSH to the lab's hosts through the inventory, as the product does."""
        manager = await Manager.open(self.settings)
        try:
            async with await open_access(manager, self.config.cluster) as access:
                yield access
        finally:
            await manager.close()

    async def sh(self, name: str, script: str, *args: str | Secret) -> str:
        """Run a shell script (arguments in $1...) on a host over SSH; its stdout.

        Fails on a non-zero exit status.
        """
        async with self.access() as access:
            conn = await access.connection(self.host(name).fqdn)
            return (await conn.run(Command.script(script, *args))).check().stdout


def lab_config(state_dir: Path, **overrides: object) -> LabConfig:
    options: dict[str, object] = {"prefix": TEST_PREFIX, "subnet": TEST_SUBNET, **overrides}
    return LabConfig(state_dir=state_dir, **options)  # type: ignore[arg-type]


@asynccontextmanager
async def running_lab(base: Path, *, gluu: bool = True, **overrides: object) -> AsyncIterator[Lab]:
    """A lab up for the ``async with`` block; ``overrides`` change its LabConfig.

    ``gluu``: Gluu Server installed on the identity nodes by clustermgr's install, from
    the lab's repository, with :data:`ADMIN_PASSWORD` (else bare servers).
    """
    settings = Settings(data_dir=base / "manager", connect_timeout=5, command_timeout=60)
    config = lab_config(base / "lab", **overrides)
    await service.down(config, settings)  # what a crashed earlier run may have left
    try:
        await service.up(config, settings)
        lab = Lab(config, settings)
        if gluu:
            await install_gluu(lab)
        yield lab
    finally:
        await service.down(config, settings)


async def install_gluu(lab: Lab) -> None:
    manager = await Manager.open(lab.settings)
    try:
        await install_lab(manager, lab.config.cluster, lab.config.apt_repo, ADMIN_PASSWORD)
    finally:
        await manager.close()


def tcp_open(address: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False
