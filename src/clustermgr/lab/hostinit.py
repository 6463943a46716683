"""PID 1 of a lab host: builds the host's filesystem, then runs and reaps its services.

Started by the lab as::

    ip netns exec NETNS unshare --mount --uts --pid --fork --propagation private \\
        /usr/bin/python3 hostinit.py BOOT_JSON

so it is process 1 of a new PID namespace, with its own mount and UTS
namespaces, inside the host's network namespace.  It uses the standard library
only: it runs on Debian's python3, and after ``pivot_root`` nothing outside the
host's own filesystem is visible.

Boot:
  1. the host's root is an overlay: the live ``/`` below, the host's own folder
     above (its "disk"); every path the boot file lists as hidden (the manager's
     data, every top-level folder but the operating system's) shows only what
     the host wrote there itself, at every boot;
  2. fresh ``/proc``, a private ``/dev`` (device nodes bound from the real one,
     its own ``/dev/pts`` and ``/dev/log``), tmpfs ``/run`` and ``/tmp`` (nothing
     of the machine's ``/tmp``, where test sessions keep their managers' data);
  3. ``pivot_root`` into it;
  4. on the first boot only: hostname, /etc/hosts, the host's own SSH host key,
     root's authorized_keys, and no service enabled but ssh;
  5. a syslog socket (``/dev/log`` to ``/var/log/syslog``, logins to
     ``/var/log/auth.log``), sshd (restarted if it dies), then every service
     enabled in ``/etc/rc2.d``.

SIGTERM stops the services and the host (a clean shutdown); SIGKILL from
outside is a power cut: the disk stays, the processes are gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
OLD_ROOT = ".lab-oldroot"
FIRST_BOOT_MARK = Path("/var/lib/lab-host/provisioned")
RC_DIR = Path("/etc/rc2.d")
SERVICE_TIMEOUT = 60.0
SHUTDOWN_GRACE = 5.0

_stopping = threading.Event()


def log(message: str) -> None:
    sys.stdout.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} init: {message}\n")
    sys.stdout.flush()


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(args), capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: exit {proc.returncode}: {proc.stderr.strip()}")
    return proc


# --- filesystem --------------------------------------------------------------


def hide(upper: Path, path: str) -> None:
    """Hide ``path`` of the live root from the host; what the host wrote there itself stays.

    A folder becomes opaque, with the live folder's owner and mode (``/opt`` stays
    ``/opt`` to the host's services): the host sees only its own entries in it; a
    path not there yet becomes an opaque folder only root may enter.  Anything else
    (a file, a link) gets a whiteout: the host does not see it until it writes its own.
    """
    target = upper / path.lstrip("/")
    if os.path.lexists(target):
        if target.is_dir() and not target.is_symlink():
            os.setxattr(target, "trusted.overlay.opaque", b"y")
        return
    live = os.lstat(path) if os.path.lexists(path) else None
    if live is None or stat.S_ISDIR(live.st_mode):
        target.mkdir(parents=True, mode=0o700)
        if live is not None:
            os.chown(target, live.st_uid, live.st_gid)
            os.chmod(target, stat.S_IMODE(live.st_mode))
        os.setxattr(target, "trusted.overlay.opaque", b"y")
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    os.mknod(target, stat.S_IFCHR, os.makedev(0, 0))


def build_root(boot: dict[str, Any]) -> Path:
    upper, work, root = Path(boot["upper"]), Path(boot["work"]), Path(boot["root"])
    for folder in (upper, work, root):
        folder.mkdir(parents=True, exist_ok=True)
    for path in boot["hidden"]:
        hide(upper, path)
    run(
        "mount",
        "-t",
        "overlay",
        "overlay",
        "-o",
        f"lowerdir=/,upperdir={upper},workdir={work}",
        str(root),
    )
    run("mount", "-t", "proc", "proc", str(root / "proc"))
    run("mount", "--rbind", "/sys", str(root / "sys"))
    dev = root / "dev"
    run("mount", "-t", "tmpfs", "-o", "mode=755,nosuid", "tmpfs", str(dev))
    for name in DEVICES:
        (dev / name).touch()
        run("mount", "--bind", f"/dev/{name}", str(dev / name))
    (dev / "pts").mkdir()
    run(
        "mount",
        "-t",
        "devpts",
        "-o",
        "newinstance,ptmxmode=0666,mode=620",
        "devpts",
        str(dev / "pts"),
    )
    (dev / "ptmx").symlink_to("pts/ptmx")
    (dev / "shm").mkdir()
    run("mount", "-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "tmpfs", str(dev / "shm"))
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ):
        (dev / name).symlink_to(target)
    run("mount", "-t", "tmpfs", "-o", "mode=755,nosuid,nodev", "tmpfs", str(root / "run"))
    run("mount", "-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "tmpfs", str(root / "tmp"))
    return root


def pivot(root: Path) -> None:
    old = root / OLD_ROOT
    old.mkdir(exist_ok=True)
    run("pivot_root", str(root), str(old))
    os.chdir("/")
    run("umount", "-l", f"/{OLD_ROOT}")
    os.rmdir(f"/{OLD_ROOT}")


# --- first boot --------------------------------------------------------------


def write(path: str, content: str, mode: int = 0o644) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    target.chmod(mode)


def first_boot(boot: dict[str, Any], seed: dict[str, str]) -> None:
    if FIRST_BOOT_MARK.exists():
        return
    log("first boot: provisioning identity")
    write("/etc/hostname", boot["fqdn"] + "\n")
    write("/etc/hosts", seed["hosts"])
    write("/etc/machine-id", os.urandom(16).hex() + "\n", 0o444)
    for old in Path("/etc/ssh").glob("ssh_host_*"):
        old.unlink()
    write("/etc/ssh/ssh_host_ed25519_key", seed["host_key"], 0o600)
    write("/etc/ssh/ssh_host_ed25519_key.pub", seed["host_key_pub"])
    write("/etc/ssh/sshd_config.d/lab.conf", seed["sshd_config"])
    Path("/root").chmod(0o700)
    write("/root/.ssh/authorized_keys", seed["authorized_keys"], 0o600)
    Path("/root/.ssh").chmod(0o700)
    for link in RC_DIR.glob("S*"):
        # A new server runs nothing but what is enabled on it; disabled the
        # Debian way, so `update-rc.d NAME enable` turns a service back on.
        run("update-rc.d", link.name[3:], "disable", check=False)
    FIRST_BOOT_MARK.parent.mkdir(parents=True, exist_ok=True)
    FIRST_BOOT_MARK.write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + "\n")


# --- services ----------------------------------------------------------------


#: A datagram's head as the C library's syslog() sends it: ``<PRI>Mmm dd hh:mm:ss `` (the
#: priority and the sender's stamp; the file gets the receiver's stamp instead).
_DATAGRAM_HEAD = re.compile(r"<\d{1,3}>(?:[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} )?")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def syslog_line(data: bytes, hostname: str, stamp: str) -> bytes:
    """A datagram from /dev/log as ONE line of a syslog file: ``STAMP HOST TAG: text``,
    control characters inside it escaped as rsyslog does (a newline is ``#012``)."""
    text = data.decode(errors="replace")
    if head := _DATAGRAM_HEAD.match(text):
        text = text[head.end() :]
    text = _CONTROL.sub(lambda c: f"#{ord(c[0]):03o}", text.rstrip())
    return f"{stamp} {hostname} {text}\n".encode()


#: syslog facilities (auth, authpriv) Debian's rsyslog writes to /var/log/auth.log only.
AUTH_FACILITIES = frozenset({4, 10})
_PRIORITY = re.compile(rb"<(\d{1,3})>")


def syslog_file(data: bytes) -> str:
    """Where a datagram goes, by its facility: logins to auth.log, the rest to syslog."""
    head = _PRIORITY.match(data)
    if head is not None and int(head[1]) // 8 in AUTH_FACILITIES:
        return "/var/log/auth.log"
    return "/var/log/syslog"


def open_syslog() -> socket.socket:
    """/dev/log, bound before any service starts (a message sent before is lost)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("/dev/log")
    os.chmod("/dev/log", 0o666)  # noqa: S103 - every local program may log, as on any host
    return sock


def syslog_loop(sock: socket.socket, hostname: str) -> None:
    """A minimal syslog: datagrams on /dev/log appended to /var/log/syslog or auth.log."""
    Path("/var/log").mkdir(exist_ok=True)
    with (
        open("/var/log/syslog", "ab", buffering=0) as syslog,
        open("/var/log/auth.log", "ab", buffering=0) as auth,
    ):
        files = {"/var/log/syslog": syslog, "/var/log/auth.log": auth}
        while not _stopping.is_set():
            data = sock.recv(65536)
            line = syslog_line(data, hostname, time.strftime("%b %d %H:%M:%S"))
            files[syslog_file(data)].write(line)


def start_sshd() -> subprocess.Popen[bytes]:
    """sshd logs through syslog (auth.log); its own output (a failed start) to sshd.log."""
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    logfile = open("/var/log/sshd.log", "ab")  # noqa: SIM115 - handed to the child
    return subprocess.Popen(
        ["/usr/sbin/sshd", "-D"],
        stdout=logfile,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )


def enabled_services() -> list[Path]:
    return sorted(p for p in RC_DIR.glob("S*") if p.name[3:] != "ssh")


def rc(script: Path, action: str) -> None:
    # Output goes to a file, never a pipe: a daemon that keeps its inherited
    # stdout open would hold a pipe (and us) forever.
    with open("/var/log/lab-rc.log", "ab") as out:
        try:
            proc = subprocess.run(
                [str(script), action],
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=SERVICE_TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
            log(f"{script.name} {action}: exit {proc.returncode}")
        except subprocess.TimeoutExpired:
            log(f"{script.name} {action}: no answer within {SERVICE_TIMEOUT:g} s")


def shutdown(sshd: subprocess.Popen[bytes] | None) -> None:
    log("shutting down")
    for script in reversed(enabled_services()):
        rc(script, "stop")
    if sshd is not None:
        sshd.terminate()
    signal_all(signal.SIGTERM)
    deadline = time.monotonic() + SHUTDOWN_GRACE
    while time.monotonic() < deadline and reap() is not None:
        time.sleep(0.05)
    signal_all(signal.SIGKILL)
    log("halted")


def signal_all(signum: int) -> None:
    """Signal every other process of this host (PID 1 is spared by the kernel)."""
    with contextlib.suppress(ProcessLookupError):  # nothing left to signal
        os.kill(-1, signum)


def reap() -> int | None:
    """Collect every exited child (orphans land here); None when no child is left."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return None
        if pid == 0:
            return 0


def main(boot_file: str) -> None:
    boot = json.loads(Path(boot_file).read_text())
    seed = boot["seed"]
    socket.sethostname(boot["fqdn"])
    pivot(build_root(boot))
    first_boot(boot, seed)
    os.environ.update(
        {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": "/root",
            "LANG": "C.UTF-8",
        }
    )
    signal.signal(signal.SIGTERM, lambda *_: _stopping.set())
    signal.signal(signal.SIGINT, lambda *_: _stopping.set())
    threading.Thread(target=syslog_loop, args=(open_syslog(), boot["fqdn"]), daemon=True).start()
    sshd: subprocess.Popen[bytes] | None = start_sshd()
    log("sshd started")
    for script in enabled_services():
        rc(script, "start")
    log("boot complete")
    while not _stopping.is_set():
        if sshd is not None and sshd.poll() is not None:
            log(f"sshd exited with {sshd.returncode}; restarting")
            sshd = start_sshd()
        reap()
        _stopping.wait(0.2)
    shutdown(sshd)


if __name__ == "__main__":
    main(sys.argv[1])
