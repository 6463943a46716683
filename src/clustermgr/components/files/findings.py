"""The alerts of the cluster files (pure): one per node and file that is not its sealed copy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from clustermgr.components.files.model import Node, State, drift_key
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.topology import cluster_file


@dataclass(frozen=True)
class Verdict:
    findings: tuple[Finding, ...]
    #: The keys of nodes that did not answer: their alerts stay as they are.
    unknown: tuple[str, ...]


def judge(nodes: Sequence[Node], sealed: Sequence[str]) -> Verdict:
    """A critical finding ``file-drift:HOST:PATH`` per drifted file: a node serving
    another certificate or signing with another key breaks the cluster's sessions."""
    findings = []
    unknown = []
    for node in nodes:
        if node.error:
            unknown += [drift_key(node.host, path) for path in sealed]
            continue
        for f in node.drifted:
            spec = cluster_file(f.path)
            how = "is missing" if f.state is State.MISSING else "differs from the sealed copy"
            findings.append(
                Finding(
                    drift_key(node.host, f.path),
                    Severity.CRITICAL,
                    f"{node.host}: {f.path} ({spec.what}) {how}: `files apply` writes it back",
                    details=f"found sha256 {f.sha256 or '(none)'}",
                )
            )
    return Verdict(tuple(findings), tuple(unknown))
