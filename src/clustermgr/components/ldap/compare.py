"""Compare the directories of the identity nodes from their digests (pure).

Each node sends counts and digests per subtree and per entry (see
:mod:`digest`).  The verdict: ``identical`` (every node answered and all
agree), ``different`` (which subtrees differ on which nodes, and per node up
to ``limit`` entries that are missing, extra or different), or ``incomplete``
(the nodes that answered agree, but some could not be read: an unreadable
node is reported as such, never as "different").

What a node is compared with, entry by entry: the state most nodes hold
(absent counts as a state), or, when no state has a strict majority, the
reference node's (the source of a re-initialisation, else the first node).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from clustermgr.components.ldap import digest
from clustermgr.components.ldap.model import PROBE_BRANCH, SUFFIX
from clustermgr.facts.ldif import node_script
from clustermgr.remote.command import Command

DIGEST_SOURCE = node_script(digest)

H = TypeVar("H", bound=Hashable)

#: How many entries per node a report names.
ENTRY_LIMIT = 20

#: One entry's state on a node: (values digest, entryCSN digest), or None when absent.
State = tuple[str, str] | None

MISSING = "missing"
EXTRA = "extra"
DIFFERENT = "different"
#: Same values, another entryCSN: replication state differs.
CSN_ONLY = "entryCSN only"


@dataclass(frozen=True)
class Subtree:
    count: int
    digest: str
    entries: Mapping[str, tuple[str, str]]


@dataclass(frozen=True)
class NodeDigest:
    subtrees: Mapping[str, Subtree]
    #: key -> DN, for the keys asked for.
    dns: Mapping[str, str] = field(default_factory=dict)

    def state(self, tree: str, entry: str) -> State:
        sub = self.subtrees.get(tree)
        return sub.entries.get(entry) if sub else None


def parse(stdout: str) -> NodeDigest:
    """The node script's output; raises ValueError when it is not that."""
    try:
        data = json.loads(stdout)
        subtrees = {
            str(name): Subtree(
                int(s["count"]),
                str(s["digest"]),
                {str(k): (str(v[0]), str(v[1])) for k, v in s["entries"].items()},
            )
            for name, s in data["subtrees"].items()
        }
        dns = {str(k): str(v) for k, v in data.get("dns", {}).items()}
    except (json.JSONDecodeError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise ValueError(f"not a directory digest: {exc}") from None
    return NodeDigest(subtrees, dns)


def read(names: Sequence[str] = ()) -> Command:
    """The node digests its directory (the probe branch left out), naming ``names``' DNs."""
    spec = {"base": SUFFIX, "exclude": [PROBE_BRANCH], "names": list(names)}
    return Command.of("python3", "-c", DIGEST_SOURCE, stdin=json.dumps(spec).encode())


@dataclass(frozen=True)
class EntryDiff:
    key: str
    subtree: str
    kind: str
    dn: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "subtree": self.subtree, "kind": self.kind, "dn": self.dn}


@dataclass(frozen=True)
class SubtreeDiff:
    subtree: str
    #: Nodes whose count or digest differs from the majority/reference.
    nodes: tuple[str, ...]
    counts: Mapping[str, int]

    def as_dict(self) -> dict[str, object]:
        return {"subtree": self.subtree, "nodes": list(self.nodes), "counts": dict(self.counts)}


@dataclass(frozen=True)
class NodeReport:
    host: str
    error: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    #: Entries named (at most the limit), and the total per kind.
    entries: tuple[EntryDiff, ...] = ()
    totals: Mapping[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "host": self.host,
            "error": self.error,
            "counts": dict(self.counts),
            "entries": [e.as_dict() for e in self.entries],
            "totals": dict(self.totals),
        }


@dataclass(frozen=True)
class Comparison:
    verdict: str
    reference: str | None
    nodes: tuple[NodeReport, ...]
    subtrees: tuple[SubtreeDiff, ...]

    @property
    def identical(self) -> bool:
        return self.verdict == "identical"

    @property
    def ok(self) -> bool:
        """What a job's state follows: the data is the same everywhere."""
        return self.identical

    def named(self, dns: Mapping[str, str]) -> Comparison:
        """The same comparison with the DNs of its entries filled in from ``dns``."""
        nodes = tuple(
            NodeReport(
                n.host,
                n.error,
                n.counts,
                tuple(EntryDiff(e.key, e.subtree, e.kind, dns.get(e.key, e.dn)) for e in n.entries),
                n.totals,
            )
            for n in self.nodes
        )
        return Comparison(self.verdict, self.reference, nodes, self.subtrees)

    def keys(self) -> set[str]:
        return {e.key for n in self.nodes for e in n.entries}

    def as_dict(self) -> dict[str, object]:
        return {
            "verdict": self.verdict,
            "identical": self.identical,
            "ok": self.ok,
            "reference": self.reference,
            "nodes": [n.as_dict() for n in self.nodes],
            "differing_subtrees": [s.as_dict() for s in self.subtrees],
        }


def _chosen(states: Mapping[str, H], reference: str) -> H:
    """The state most nodes hold (strictly more than half), else the reference's."""
    value, n = Counter(states.values()).most_common(1)[0]
    if n * 2 > len(states):
        return value
    return states[reference]


def _kind(mine: State, chosen: State) -> str:
    if chosen is None:
        return EXTRA
    if mine is None:
        return MISSING
    return CSN_ONLY if mine[0] == chosen[0] else DIFFERENT


def compare(
    nodes: Mapping[str, NodeDigest | str],
    *,
    reference: str | None = None,
    limit: int = ENTRY_LIMIT,
) -> Comparison:
    """Compare nodes (host -> digest, or the reason it could not be read)."""
    read = {h: d for h, d in nodes.items() if isinstance(d, NodeDigest)}
    if reference not in read:
        reference = next(iter(read), None)
    errors = {h: d for h, d in nodes.items() if isinstance(d, str)}
    trees = sorted({t for d in read.values() for t in d.subtrees})
    subtree_diffs: list[SubtreeDiff] = []
    found: dict[str, list[EntryDiff]] = {h: [] for h in read}
    for tree in trees:
        sums = {
            h: (s.count, s.digest) if (s := d.subtrees.get(tree)) else (0, "")
            for h, d in read.items()
        }
        assert reference is not None
        chosen = _chosen(sums, reference)
        odd = tuple(h for h, s in sums.items() if s != chosen)
        if not odd:
            continue
        subtree_diffs.append(SubtreeDiff(tree, odd, {h: s[0] for h, s in sums.items()}))
        keys = sorted(
            {k for d in read.values() if tree in d.subtrees for k in d.subtrees[tree].entries}
        )
        for entry in keys:
            states = {h: d.state(tree, entry) for h, d in read.items()}
            want = _chosen(states, reference)
            for host in odd:
                if states[host] != want:
                    found[host].append(EntryDiff(entry, tree, _kind(states[host], want)))
    reports = []
    for host in nodes:
        if host in errors:
            reports.append(NodeReport(host, errors[host]))
            continue
        digest_ = read[host]
        diffs = found[host]
        reports.append(
            NodeReport(
                host,
                counts={t: s.count for t, s in digest_.subtrees.items()},
                entries=tuple(diffs[:limit]),
                totals=dict(Counter(e.kind for e in diffs)),
            )
        )
    if subtree_diffs:
        verdict = "different"
    elif errors or not read:
        verdict = "incomplete"
    else:
        verdict = "identical"
    return Comparison(verdict, reference, tuple(reports), tuple(subtree_diffs))


def holders(nodes: Mapping[str, NodeDigest | str], comparison: Comparison) -> dict[str, list[str]]:
    """For each host, the keys of named entries it holds: where to ask for their DNs."""
    out: dict[str, list[str]] = {}
    wanted = comparison.keys()
    for host, node in nodes.items():
        if not isinstance(node, NodeDigest):
            continue
        have = [k for k in sorted(wanted) if any(k in s.entries for s in node.subtrees.values())]
        wanted -= set(have)
        if have:
            out[host] = have
    return out
