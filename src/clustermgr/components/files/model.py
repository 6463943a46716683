"""What the cluster files are on a node, against their sealed copies (pure).

A node's digests come from one command (:func:`digest_command`: the SHA-256 of each
path, ``-`` where there is none); :func:`compare` sets them beside the sealed ones;
:func:`plan_files` writes a sealed copy where a node's differs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from clustermgr.plan.model import FileChange, Plan, Step
from clustermgr.remote.command import Command
from clustermgr.topology import ClusterFile, Role, cluster_file

COMPONENT = "files"
#: The alert of a node whose file is not its sealed copy: ``file-drift:HOST:PATH``.
DRIFT = "file-drift"
_DIGESTS = (
    'for f in "$@"; do if [ -e "$f" ]; then sha256sum < "$f" | cut -c1-64; else echo -; fi; done'
)


class State(StrEnum):
    SAME = "same"
    DIFFERS = "differs"
    MISSING = "missing"


@dataclass(frozen=True)
class NodeFile:
    path: str
    state: State
    #: What the node has (None: no file).
    sha256: str | None


@dataclass(frozen=True)
class Node:
    host: str
    #: Where it was read; on a node that did not answer, none.
    files: tuple[NodeFile, ...] = ()
    #: Why it could not be read ("" when it was).
    error: str = ""

    @property
    def drifted(self) -> tuple[NodeFile, ...]:
        return tuple(f for f in self.files if f.state is not State.SAME)


def drift_key(host: str, path: str) -> str:
    return f"{DRIFT}:{host}:{path}"


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def carried(sealed: Mapping[str, bytes], role: Role) -> tuple[ClusterFile, ...]:
    """The sealed files a node of ``role`` carries, in the sealed order."""
    return tuple(cluster_file(p) for p in sealed if role in cluster_file(p).roles)


def digest_command(paths: Sequence[str]) -> Command:
    return Command.script(_DIGESTS, *paths)


def parse_digests(paths: Sequence[str], stdout: str) -> list[str | None]:
    """Each path's SHA-256 (None: no file), in order; ValueError on other output."""
    lines = stdout.split()
    if len(lines) != len(paths) or any(
        line != "-" and (len(line) != 64 or any(c not in "0123456789abcdef" for c in line))
        for line in lines
    ):
        raise ValueError(f"unexpected digests: {stdout[:200]!r}")
    return [None if line == "-" else line for line in lines]


def compare(
    sealed: Mapping[str, bytes], specs: Sequence[ClusterFile], found: Sequence[str | None]
) -> tuple[NodeFile, ...]:
    """The node's files (``found``: each spec's digest there) against the sealed ones."""
    out = []
    for spec, there in zip(specs, found, strict=True):
        if there is None:
            state = State.MISSING
        else:
            state = State.SAME if there == digest(sealed[spec.path]) else State.DIFFERS
        out.append(NodeFile(spec.path, state, there))
    return tuple(out)


def plan_files(
    cluster: str, sealed: Mapping[str, bytes], nodes: Mapping[str, tuple[Role, str | None]]
) -> Plan:
    """Every node's cluster files as sealed (``nodes``: each node's role and Gluu chroot);
    the executor leaves a file that is already its sealed copy alone.  A secret file's
    diff says only that it changes."""
    steps = []
    for host, (role, gluu_root) in nodes.items():
        for spec in carried(sealed, role):
            change = FileChange(
                spec.on(gluu_root),
                sealed[spec.path],
                mode=spec.mode,
                owner=spec.owner,
                sensitive=spec.secret,
            )
            steps.append(
                Step(
                    host,
                    f"write {spec.path}",
                    f"{spec.what}: the cluster's sealed copy, the same on every node",
                    files=(change,),
                )
            )
    return Plan(f"cluster files of {cluster}", tuple(steps))
