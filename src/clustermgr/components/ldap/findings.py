"""From the nodes' checks to findings, samples and the snapshot (pure, no I/O).

Alert keys, one per problem and stable across cycles (hostnames as in the
inventory):

- ``node-unreachable:H``  no SSH session to H (stopped, partitioned)
- ``node-down:H``         SSH works, slapd on H does not answer
- ``node-error:H``        the check could not run on H
- ``agreement:C<-P``      consumer C cannot replicate from provider P (unreachable,
                          tls, credentials, error), or has no agreement for P
- ``divergence:C<-P``     C stays behind P's changes although the agreement checks ok
- ``probe:H``             a probe write on H did not reach every other node in time

A key the cycle could not judge (the agreements of a node it could not reach,
the probes of nodes whose turn it was not) is returned as ``unknown``: its alert
stays as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from clustermgr.components.ldap import csn
from clustermgr.components.ldap.nodecheck import AgreementState, NodeCheck, NodeState
from clustermgr.errors import ClustermgrError
from clustermgr.monitor.alerts import Finding, Severity
from clustermgr.monitor.store import Measure

COMPONENT = "ldap"
PROBE_METRIC = "probe_seconds"
LAG_METRIC = "lag_seconds"

_AGREEMENT_WORDS = {
    AgreementState.UNREACHABLE: "cannot reach the provider",
    AgreementState.TLS: "TLS fails (the provider's certificate is not trusted, or StartTLS "
    "is refused)",
    AgreementState.CREDENTIALS: "the provider refuses the replicator's credentials",
    AgreementState.ERROR: "the check failed",
}


@dataclass(frozen=True)
class Probe:
    """A probe write on ``source``: seconds until each other node had it (None: not in time)."""

    source: str
    at: datetime
    seconds: Mapping[str, float | None]
    #: Why the write itself failed, if it did.
    error: str | None = None
    #: The technical record behind ``error`` (the command that failed, its stderr).
    details: str = ""

    @classmethod
    def failed(
        cls, source: str, at: datetime, targets: Iterable[str], error: ClustermgrError
    ) -> Probe:
        """A probe whose write failed: the error's words, its command in the details."""
        return cls(source, at, dict.fromkeys(targets), error.message, error.details or "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "at": self.at.isoformat(),
            "seconds": dict(self.seconds),
            "error": self.error,
        }


@dataclass
class Divergence:
    """Since when each pair has been behind while its agreement checked ok (across cycles)."""

    after: float
    behind_since: dict[tuple[str, str], datetime] = field(default_factory=dict)

    def update(
        self, pairs: Sequence[csn.PairStatus], healthy: set[tuple[str, str]], now: datetime
    ) -> list[tuple[str, str, float]]:
        """Pairs behind for longer than ``after`` seconds: (consumer, provider, seconds)."""
        behind = {(p.host, p.peer) for p in pairs if not p.caught_up} & healthy
        self.behind_since = {k: self.behind_since.get(k, now) for k in behind}
        out = []
        for (host, peer), since in sorted(self.behind_since.items()):
            seconds = (now - since).total_seconds()
            if seconds >= self.after:
                out.append((host, peer, round(seconds, 1)))
        return out


@dataclass(frozen=True)
class Evaluation:
    findings: list[Finding]
    unknown: list[str]
    measures: list[Measure]
    snapshot: dict[str, Any]


def node_findings(node: NodeCheck) -> list[Finding]:
    if node.state is NodeState.UNREACHABLE:
        text = f"{node.host} cannot be reached over SSH: {node.reason}"
        return [Finding(f"node-unreachable:{node.host}", Severity.CRITICAL, text, node.details)]
    if node.state is NodeState.SLAPD_DOWN:
        text = f"slapd on {node.host} does not answer: {node.reason}"
        return [Finding(f"node-down:{node.host}", Severity.CRITICAL, text, node.details)]
    if node.state is NodeState.ERROR:
        text = f"the check of {node.host} could not run: {node.reason}"
        return [Finding(f"node-error:{node.host}", Severity.WARNING, text, node.details)]
    return []


def agreement_findings(node: NodeCheck, members: Sequence[str]) -> list[Finding]:
    found = []
    providers = {a.provider for a in node.agreements}
    for a in node.agreements:
        if a.state is not AgreementState.OK:
            text = f"{node.host} cannot replicate from {a.provider}: {_AGREEMENT_WORDS[a.state]}"
            if a.reason:
                text += f" ({a.reason})"
            found.append(Finding(f"agreement:{node.host}<-{a.provider}", Severity.CRITICAL, text))
    if node.agreements:  # a node that replicates at all should replicate from every peer
        for peer in members:
            if peer != node.host and peer not in providers:
                text = f"{node.host} has no agreement to replicate from {peer} (run ldap apply)"
                found.append(Finding(f"agreement:{node.host}<-{peer}", Severity.WARNING, text))
    return found


def _unjudged(host: str, members: Sequence[str]) -> list[str]:
    """The keys about ``host`` that only ``host`` itself can answer."""
    keys = [f"node-down:{host}", f"node-error:{host}"]
    for peer in members:
        if peer != host:
            keys += [f"agreement:{host}<-{peer}", f"divergence:{host}<-{peer}"]
    return keys


def probe_key(source: str) -> str:
    return f"probe:{source}"


def probe_findings(probe: Probe, timeout: float) -> list[Finding]:
    if probe.error:
        text = f"a probe write on {probe.source} failed: {probe.error}"
        return [Finding(probe_key(probe.source), Severity.WARNING, text, probe.details)]
    missed = sorted(h for h, s in probe.seconds.items() if s is None)
    if not missed:
        return []
    text = f"a probe write on {probe.source} did not reach {', '.join(missed)} within {timeout:g} s"
    return [Finding(probe_key(probe.source), Severity.WARNING, text)]


def probe_measures(probe: Probe) -> list[Measure]:
    """The probe's time to each node it reached."""
    return [
        Measure(PROBE_METRIC, probe.source, target, seconds)
        for target, seconds in probe.seconds.items()
        if seconds is not None
    ]


def evaluate(
    members: Mapping[str, int],
    nodes: Sequence[NodeCheck],
    divergence: Divergence,
    now: datetime,
    *,
    probes: Mapping[str, Probe],
) -> Evaluation:
    """One cycle's findings, unknown keys, samples and snapshot (probes judged apart).

    ``probes``: the latest probe per source node, for the snapshot.
    """
    hosts = list(members)
    findings: list[Finding] = []
    unknown: list[str] = []
    for node in nodes:
        findings += node_findings(node)
        if node.state is NodeState.OK:
            findings += agreement_findings(node, hosts)
        else:  # a finding about the node itself wins over its key being unknown
            unknown += _unjudged(node.host, hosts)
    answered = {n.host: csn.by_server_id(n.context_csn) for n in nodes if n.state is NodeState.OK}
    pairs = csn.pairs(answered, members)
    healthy = {
        (n.host, a.provider) for n in nodes for a in n.agreements if a.state is AgreementState.OK
    }
    for host, peer, seconds in divergence.update(pairs, healthy, now):
        text = (
            f"{host} has stayed behind {peer}'s changes for {seconds:g} s although its "
            "agreement checks ok: the data may diverge (compare, or re-initialise the node)"
        )
        findings.append(Finding(f"divergence:{host}<-{peer}", Severity.WARNING, text))
    unknown += [probe_key(source) for source in hosts]
    measures = [
        Measure(LAG_METRIC, p.host, p.peer, p.lag_seconds)
        for p in pairs
        if p.lag_seconds is not None
    ]
    snapshot = _snapshot(members, nodes, pairs, findings, probes, now)
    return Evaluation(findings, unknown, measures, snapshot)


def _snapshot(
    members: Mapping[str, int],
    nodes: Sequence[NodeCheck],
    pairs: Sequence[csn.PairStatus],
    findings: Sequence[Finding],
    probes: Mapping[str, Probe],
    now: datetime,
) -> dict[str, Any]:
    """What a page needs to draw the topology coloured by health, lag per pair, probes."""
    worst: dict[str, str] = {}
    for f in findings:
        for host in _hosts_of(f.key):
            if worst.get(host) != Severity.CRITICAL.value:
                worst[host] = f.severity.value
    return {
        "at": now.isoformat(),
        "nodes": [
            {
                "host": n.host,
                "server_id": members.get(n.host),
                "state": n.state.value,
                "health": worst.get(n.host, "ok"),
                "reason": n.reason,
                "check_seconds": n.seconds,
                "context_csn": n.context_csn,
            }
            for n in nodes
        ],
        "agreements": [{"consumer": n.host, **a.as_dict()} for n in nodes for a in n.agreements],
        "pairs": [p.as_dict() for p in pairs],
        "probes": probes_list(members, probes),
    }


def probes_list(hosts: Iterable[str], probes: Mapping[str, Probe]) -> list[dict[str, Any]]:
    """The latest probe of each node, in the members' order."""
    return [probes[h].as_dict() for h in hosts if h in probes]


def _hosts_of(key: str) -> list[str]:
    """The hosts an alert key is about: its consumer/host (a page colours these)."""
    _, _, subject = key.partition(":")
    return [subject.split("<-", 1)[0]]
