"""What one load balancer check means: alerts for failing nodes (not drained ones),
a failed rewrite, samples of response times, the snapshot."""

from __future__ import annotations

from datetime import UTC, datetime

from clustermgr.components.lb import findings as lbfindings
from clustermgr.components.lb.health import Probe
from clustermgr.components.lb.model import Backend, BackendState
from clustermgr.monitor.alerts import Severity

AT = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)


def backends(*states: BackendState) -> list[Backend]:
    return [Backend(f"n{i}", f"10.0.0.{i}", 443, s) for i, s in enumerate(states, 1)]


PROBES = {
    "n1": Probe("n1", True, 200, 0.01),
    "n2": Probe("n2", False, 502, 0.02, "HTTP 502"),
    "n3": Probe("n3", False, None, None, "ConnectError"),
}


def test_a_node_taken_out_opens_an_alert_a_drained_one_does_not() -> None:
    found = lbfindings.findings(
        backends(BackendState.UP, BackendState.DOWN, BackendState.DRAINED), PROBES, None, "p"
    )
    assert [f.key for f in found] == ["backend:n2"]
    assert "HTTP 502" in found[0].message and "taken out" in found[0].message


def test_a_failing_node_kept_in_says_so_and_a_failed_rewrite_alerts() -> None:
    found = lbfindings.findings(
        backends(BackendState.UP, BackendState.UP), PROBES, "nginx -t failed", "p"
    )
    assert [f.key for f in found] == ["backend:n2", "reload:p"]
    assert "kept in" in found[0].message


def test_samples_only_for_answers_and_the_snapshot_per_backend() -> None:
    assert [(m.host, m.value) for m in lbfindings.measures(PROBES)] == [("n1", 0.01), ("n2", 0.02)]
    snap = lbfindings.snapshot(
        "p", backends(BackendState.UP, BackendState.DOWN), PROBES, AT, {"x": 1}
    )
    assert snap["proxy"] == "p" and snap["nginx"] == {"x": 1} and snap["issuer"] is None
    assert snap["backends"][1] == {
        "host": "n2",
        "address": "10.0.0.2:443",
        "state": "down",
        "healthy": False,
        "status": 502,
        "seconds": 0.02,
        "error": "HTTP 502",
        "issuer": None,
        "checked_at": AT.isoformat(),
    }


CLUSTER = "https://lb.example.org"


def issuers(*names: str | None) -> dict[str, Probe]:
    return {f"n{i}": Probe(f"n{i}", True, 200, 0.01, "", n) for i, n in enumerate(names, 1)}


def test_nodes_serving_the_clusters_issuer_raise_no_warning() -> None:
    assert lbfindings.issuer_findings(issuers(CLUSTER, CLUSTER), CLUSTER) == []
    assert lbfindings.issuer_unknown(issuers(CLUSTER, CLUSTER)) == []


def test_a_node_serving_another_issuer_is_warned_about_in_words() -> None:
    found = lbfindings.issuer_findings(issuers(CLUSTER, "https://n2.example.org"), CLUSTER)
    assert [(f.key, f.severity) for f in found] == [("issuer:n2", Severity.WARNING)]
    assert found[0].message == (
        "n2 serves the issuer https://n2.example.org, not https://lb.example.org (the "
        "cluster's public hostname): through the load balancer, discovery names 2 "
        "different issuers"
    )


def test_nodes_agreeing_on_another_issuer_are_each_warned_about() -> None:
    other = "https://old.example.org"
    found = lbfindings.issuer_findings(issuers(other, other), CLUSTER)
    assert [f.key for f in found] == ["issuer:n1", "issuer:n2"]
    assert all("every node should serve the cluster's issuer" in f.message for f in found)


def test_a_node_whose_issuer_could_not_be_read_is_neither_warned_about_nor_cleared() -> None:
    probes = issuers(CLUSTER, None)
    assert lbfindings.issuer_findings(probes, CLUSTER) == []
    assert lbfindings.issuer_unknown(probes) == ["issuer:n2"]


def test_a_joining_node_failing_its_health_check_is_no_alert() -> None:
    """Until the node-add admits it, its health is the job's to wait for."""
    found = lbfindings.findings(backends(BackendState.UP, BackendState.JOINING), PROBES, None, "p")
    assert found == []
