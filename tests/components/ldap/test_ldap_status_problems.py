"""ldap status names what is wrong in words: unreadable nodes, a replicator that cannot bind."""

from __future__ import annotations

from clustermgr.components.ldap.status import NodeStatus, problems


def test_no_problem_when_all_nodes_answer_and_bind() -> None:
    nodes = [NodeStatus("a", {}, replicator_binds=True), NodeStatus("b", {}, replicator_binds=True)]
    assert problems(nodes, probed=True, latency=0.1) == []
    assert problems(nodes, probed=False, latency=None) == []


def test_replicator_bind_failure_and_unreadable_node_are_reported() -> None:
    nodes = [
        NodeStatus("a", {}, replicator_binds=False),
        NodeStatus("b", {}, error="connection refused"),
    ]
    out = problems(nodes, probed=True, latency=None)
    assert out[0].startswith("a: the replicator cannot bind")
    assert out[1] == "b: cannot read the directory: connection refused"
    assert "probe write did not reach every node" in out[2]


def test_as_dict_carries_the_bind_check() -> None:
    assert NodeStatus("a", {}, replicator_binds=False).as_dict()["replicator_binds"] is False
