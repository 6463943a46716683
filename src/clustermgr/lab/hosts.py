"""Lab hosts as processes: create their disk and identity, boot, stop, find.

A host's "disk" is its folder under the lab's state folder (the overlay's
upper layer); its identity (hostname, SSH host key, who may log in) is decided
here, before the first boot, so the lab knows every host key it will pin.
A running host is its PID 1 (``hostinit.py``) and everything under it, all
inside the host's network namespace: finding a host's processes means asking
which processes live in that namespace, so nothing is ever stopped by name.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from clustermgr.lab import hostinit
from clustermgr.lab.config import HostState, LabConfig, LabHost
from clustermgr.lab.net import IP, LabError

PYTHON = "/usr/bin/python3"  # Debian's: the host sees the live root's /usr, not a venv
STOP_TIMEOUT = 20.0
BOOT_TIMEOUT = 30.0

SSHD_CONFIG = """\
# Written by the clustermgr lab: root logs in by key only.
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
"""


def keygen(path: Path, comment: str) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)], check=True
    )


def hosts_file(config: LabConfig) -> str:
    lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback", ""]
    lines += [f"{h.address}\t{h.fqdn} {h.name}" for h in config.hosts()]
    return "\n".join(lines) + "\n"


def prepare(config: LabConfig, host: LabHost, hidden: Sequence[str]) -> Path:
    """Create the host's folder, SSH host key and boot description; return the boot file.

    ``hidden``: paths of the live root the host must not see (:func:`hostinit.hide`).
    """
    folder = config.host_dir(host.name)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    host_key = folder / "ssh_host_ed25519_key"
    keygen(host_key, f"root@{host.fqdn}")
    boot = {
        "name": host.name,
        "fqdn": host.fqdn,
        "upper": str(folder / "disk"),
        "work": str(folder / "work"),
        "root": str(folder / "root"),
        "hidden": sorted(set(hidden)),
        "seed": {
            "hosts": hosts_file(config),
            "host_key": host_key.read_text(),
            "host_key_pub": host_key.with_suffix(".pub").read_text(),
            "authorized_keys": config.ssh_key.with_suffix(".pub").read_text(),
            "sshd_config": SSHD_CONFIG,
        },
    }
    boot_file = folder / "boot.json"
    fd = os.open(boot_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(boot, out)
    return boot_file


def host_key_line(config: LabConfig, host: LabHost) -> str:
    return (config.host_dir(host.name) / "ssh_host_ed25519_key.pub").read_text().strip()


# --- processes ---------------------------------------------------------------


def netns_inode(netns: str) -> int | None:
    try:
        return os.stat(f"/run/netns/{netns}").st_ino
    except FileNotFoundError:
        return None


def processes_in(netns: str) -> list[int]:
    """Every process whose network namespace is the host's: the host, whole."""
    inode = netns_inode(netns)
    if inode is None:
        return []
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.stat(entry / "ns" / "net").st_ino == inode:
                found.append(int(entry.name))
        except (FileNotFoundError, PermissionError, ProcessLookupError):
            continue
    return found


def init_pid(netns: str) -> int | None:
    """The host's PID 1 (as the root namespace numbers it), if the host runs."""
    for pid in processes_in(netns):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except (FileNotFoundError, ProcessLookupError):  # it ended since it was listed
            continue
        for line in status.splitlines():
            if line.startswith("NSpid:"):
                numbers = line.split()[1:]
                if len(numbers) >= 2 and numbers[-1] == "1":
                    return pid
    return None


def state(host: LabHost) -> HostState:
    if netns_inode(host.netns) is None:
        return HostState.ABSENT
    return HostState.RUNNING if init_pid(host.netns) else HostState.STOPPED


def boot(config: LabConfig, host: LabHost, boot_file: Path) -> None:
    """Start the host's PID 1; returns once it runs (not yet once sshd answers)."""
    if init_pid(host.netns) is not None:
        return
    console = config.host_dir(host.name) / "console.log"
    with console.open("ab") as out:
        subprocess.Popen(
            [
                IP,
                "netns",
                "exec",
                host.netns,
                "unshare",
                "--mount",
                "--uts",
                "--pid",
                "--fork",
                "--propagation",
                "private",
                PYTHON,
                "-I",
                hostinit.__file__,
                str(boot_file),
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + BOOT_TIMEOUT
    while init_pid(host.netns) is None:
        if time.monotonic() > deadline:
            raise LabError(
                f"{host.name} did not start within {BOOT_TIMEOUT:g} s", hint=f"see {console}"
            )
        time.sleep(0.02)


def stop(host: LabHost, *, power_cut: bool = False, timeout: float = STOP_TIMEOUT) -> None:
    """Shut the host down cleanly (SIGTERM to its PID 1), or cut its power (SIGKILL)."""
    pid = init_pid(host.netns)
    if pid is None:
        return
    os.kill(pid, signal.SIGKILL if power_cut else signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while processes_in(host.netns):
        if time.monotonic() > deadline:
            kill_all(host.netns)
            break
        time.sleep(0.05)


def kill_all(netns: str) -> None:
    """SIGKILL every process of the host, by PID (its PID 1 first: that ends the rest)."""
    pid = init_pid(netns)
    if pid is not None:
        _kill(pid)
    for other in processes_in(netns):
        _kill(other)
    deadline = time.monotonic() + 10
    while processes_in(netns) and time.monotonic() < deadline:
        time.sleep(0.05)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def wait_for_ssh(host: LabHost, timeout: float = BOOT_TIMEOUT) -> None:
    """Poll until the host's sshd accepts a TCP connection and sends its banner."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host.address, 22), timeout=1) as sock:
                if sock.recv(4).startswith(b"SSH-"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise LabError(
                f"{host.name}: sshd does not answer on {host.address}:22 after {timeout:g} s"
            )
        time.sleep(0.05)
