"""The identity nodes' keystores: which keys each publishes, and writing the sealed one.

One command per node reads both facts (:data:`_READ`): the SHA-256 of its keystore
file and the kids of its JWKS, which the node's web front serves on loopback (the
node's own certificate is not checked there: the connection never leaves the node,
and only public keys come back).  Writing goes through the executor: a file is
staged beside the target, given its mode and owner and renamed over it, and only
where the node's copy differs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from clustermgr.components.keys.keystore import KEYSTORE
from clustermgr.core.access import HostAccess
from clustermgr.errors import ClustermgrError
from clustermgr.inventory.models import Cluster
from clustermgr.plan.events import Emit
from clustermgr.plan.executor import Executor
from clustermgr.plan.model import ApplyReport, FileChange, Plan, Step
from clustermgr.remote.command import Command
from clustermgr.remote.pool import run_on_hosts
from clustermgr.topology import HTTPS, Role

#: Where the identity app publishes its public keys.
JWKS_PATH = "/oxauth/restv1/jwks"
JWKS_URL = f"https://127.0.0.1:{HTTPS.port}{JWKS_PATH}"
_READ = """\
import hashlib, json, ssl, sys, urllib.request
try:
    with open(sys.argv[1], "rb") as f:
        print(hashlib.sha256(f.read()).hexdigest())
except FileNotFoundError:
    print("-")
try:
    with urllib.request.urlopen(sys.argv[2], context=ssl._create_unverified_context(),
                                timeout=5) as r:
        keys = json.load(r).get("keys", [])
    print(json.dumps({"kids": [str(k.get("kid")) for k in keys]}))
except Exception as exc:
    print(json.dumps({"error": type(exc).__name__ + ": " + str(exc)[:200]}))
"""


@dataclass(frozen=True)
class NodeKeys:
    host: str
    #: The SHA-256 of its keystore file (None: it has none, or it was not read).
    sha256: str | None = None
    #: The kids its JWKS publishes (None: not read).
    kids: tuple[str, ...] | None = None
    #: Why something could not be read ("" when all was).
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "host": self.host,
            "sha256": self.sha256,
            "kids": list(self.kids) if self.kids is not None else None,
            "error": self.error,
        }


def identity_nodes(cluster: Cluster) -> list[str]:
    """The servers that hold the keystore, in the inventory's order."""
    return [s.hostname for s in cluster.servers if Role(s.role) in KEYSTORE.roles]


def read_command(gluu_root: str | None) -> Command:
    return Command.of("python3", "-I", "-c", _READ, KEYSTORE.on(gluu_root), JWKS_URL)


def parse_read(host: str, stdout: str) -> NodeKeys:
    """What :data:`_READ` printed; a node whose output is not that says so."""
    lines = stdout.strip().splitlines()
    if len(lines) != 2:
        return NodeKeys(host, error="the keystore and JWKS came back unreadable")
    digest = lines[0].strip()
    if digest != "-" and (len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest)):
        return NodeKeys(host, error="the keystore digest came back unreadable")
    sha = None if digest == "-" else digest
    try:
        found = json.loads(lines[1])
    except ValueError:
        return NodeKeys(host, sha, error="the JWKS came back unreadable")
    if not isinstance(found, dict):
        return NodeKeys(host, sha, error="the JWKS came back unreadable")
    if "error" in found:
        return NodeKeys(host, sha, error=f"its JWKS cannot be read: {str(found['error'])[:200]}")
    kids = found.get("kids")
    if not isinstance(kids, list):
        return NodeKeys(host, sha, error="the JWKS came back unreadable")
    return NodeKeys(host, sha, tuple(str(k) for k in kids))


def why(exc: BaseException) -> str:
    return exc.message if isinstance(exc, ClustermgrError) else type(exc).__name__


async def roots(
    access: HostAccess, hosts: Sequence[str]
) -> tuple[dict[str, str | None], dict[str, str]]:
    """Each node's Gluu chroot (None: it has none), and why each node that did not
    answer did not."""

    async def one(host: str) -> str | None:
        return (await access.platform(host)).gluu_root

    found = await run_on_hosts(list(hosts), one)
    return found.succeeded, {h: f"{h} does not answer: {why(e)}" for h, e in found.failed.items()}


async def read_nodes(
    access: HostAccess, nodes: dict[str, str | None], *, timeout: float
) -> list[NodeKeys]:
    """Every node's keystore digest and published kids, side by side."""

    async def one(host: str) -> NodeKeys:
        result = await (await access.connection(host)).run(
            read_command(nodes[host]), timeout=timeout
        )
        if not result.ok:
            return NodeKeys(host, error=f"reading its keys failed (exit {result.exit_status})")
        return parse_read(host, result.stdout)

    hosts = list(nodes)
    found = await run_on_hosts(hosts, one)
    return [
        found.succeeded[h] if h in found.succeeded else NodeKeys(h, error=why(found.failed[h]))
        for h in hosts
    ]


def write_plan(cluster: str, content: bytes, nodes: dict[str, str | None], why_: str) -> Plan:
    """The keystore ``content`` on every node (``nodes``: each one's Gluu chroot)."""
    steps = tuple(
        Step(
            host,
            f"write {KEYSTORE.path}",
            why_,
            files=(
                FileChange(
                    KEYSTORE.on(root),
                    content,
                    mode=KEYSTORE.mode,
                    owner=KEYSTORE.owner,
                    sensitive=True,
                ),
            ),
        )
        for host, root in nodes.items()
    )
    return Plan(f"signing keys of {cluster}", steps)


async def write(
    access: HostAccess,
    plan: Plan,
    *,
    emit: Emit,
    cancelled: Callable[[], bool],
) -> ApplyReport:
    return await Executor(access.connection, emit, cancelled=cancelled).apply(plan)
