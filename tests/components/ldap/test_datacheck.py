"""The watcher's data check: when a comparison means something, and what it reports."""

from __future__ import annotations

from clustermgr.components.ldap import datacheck as ldapdata
from clustermgr.components.ldap.compare import Comparison, EntryDiff, NodeReport, SubtreeDiff
from clustermgr.components.ldap.nodecheck import NodeCheck, NodeState

A, B, C = "idp1.lab.test", "idp2.lab.test", "idp3.lab.test"
CSN = {"001": "20261127040000.000000Z#000000#001#000000"}


def node(host: str, state: NodeState = NodeState.OK, csn: dict[str, str] = CSN) -> NodeCheck:
    return NodeCheck(host, state, context_csn=dict(csn))


def test_at_rest_only_when_every_node_answers_with_the_same_context_csn() -> None:
    assert ldapdata.at_rest([node(A), node(B), node(C)])
    assert not ldapdata.at_rest([node(A), node(B, NodeState.SLAPD_DOWN), node(C)])
    later = {"001": "20261127040001.000000Z#000000#001#000000"}
    assert not ldapdata.at_rest([node(A), node(B, csn=later), node(C)]), "a change in flight"
    assert not ldapdata.at_rest([node(A)]), "one node has nothing to compare with"


def test_a_comparison_counts_only_if_nothing_was_written_meanwhile() -> None:
    before = [node(A), node(B)]
    assert ldapdata.still_at_rest(before, [node(A), node(B)])
    later = {"001": "20261127040001.000000Z#000000#001#000000"}
    written = [node(A, csn=later), node(B, csn=later)]
    assert ldapdata.at_rest(written) and not ldapdata.still_at_rest(before, written), (
        "at rest again, but after a write: the digests may mix both"
    )
    assert not ldapdata.still_at_rest(before, [node(A, csn=later), node(B)]), "in flight"
    assert not ldapdata.still_at_rest([node(A), node(B, csn=later)], written), "not at rest before"


def same(host: str) -> NodeReport:
    return NodeReport(host, counts={"ou=people,o=gluu": 3})


def test_identical_data_reports_nothing() -> None:
    result = Comparison("identical", A, (same(A), same(B), same(C)), ())
    assert ldapdata.findings(result) == []


def test_the_node_that_differs_is_named_with_a_repair_from_a_healthy_peer() -> None:
    stray = EntryDiff("k1", "ou=people,o=gluu", "extra", "ou=stray,ou=people,o=gluu")
    odd = NodeReport(C, counts={"ou=people,o=gluu": 4}, entries=(stray,), totals={"extra": 1})
    subtree = SubtreeDiff("ou=people,o=gluu", (C,), {A: 3, B: 3, C: 4})
    found = ldapdata.findings(Comparison("different", A, (same(A), same(B), odd), (subtree,)))
    assert found is not None and [f.key for f in found] == [f"data:{C}"]
    assert "1 extra" in found[0].message and f"ldap reinit {C} --from {A}" in found[0].message
    assert "ou=stray" not in found[0].message, "alerts name counts, not entries"


def test_an_incomplete_comparison_judges_nothing() -> None:
    unreadable = NodeReport(B, error="cannot read o=gluu")
    assert ldapdata.findings(Comparison("incomplete", A, (same(A), unreadable), ())) is None
