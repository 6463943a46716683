"""From node checks to alerts: findings, unknown keys, divergence, probes, transitions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from clustermgr.cli.monitoring import parse_since
from clustermgr.components.ldap import status as ldap_status
from clustermgr.components.ldap.findings import (
    Divergence,
    Evaluation,
    Probe,
    evaluate,
    node_findings,
    probe_findings,
)
from clustermgr.components.ldap.nodecheck import (
    Agreement,
    AgreementState,
    NodeCheck,
    NodeState,
    parse_node_check,
)
from clustermgr.errors import ClustermgrError, InvalidInput
from clustermgr.monitor.alerts import Finding, Severity, transition
from clustermgr.remote.command import Command
from clustermgr.remote.result import Result

MEMBERS = {"idp1": 1, "idp2": 2, "idp3": 3}
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
CSN = "20261127030000.000000Z#000000#{sid:03x}#000000"


def node(host: str, **states: AgreementState) -> NodeCheck:
    """A node that answers, with an agreement per peer (ok unless named)."""
    agreements = tuple(
        Agreement(peer, f"{sid:03d}", states.get(peer, AgreementState.OK), "")
        for peer, sid in MEMBERS.items()
        if peer != host
    )
    csns = {f"{sid:03x}": CSN.format(sid=sid) for sid in MEMBERS.values()}
    return NodeCheck(host, NodeState.OK, "", csns, agreements)


def run(*nodes: NodeCheck, divergence: Divergence | None = None, now: datetime = NOW) -> Evaluation:
    return evaluate(MEMBERS, nodes, divergence or Divergence(30), now, probes={})


def test_a_healthy_cluster_has_no_findings_and_records_lag() -> None:
    result = run(node("idp1"), node("idp2"), node("idp3"))
    assert result.findings == []
    assert sorted(k for k in result.unknown) == ["probe:idp1", "probe:idp2", "probe:idp3"]
    assert len(result.measures) == 6 and all(m.value == 0 for m in result.measures)
    assert {n["health"] for n in result.snapshot["nodes"]} == {"ok"}
    json.dumps(result.snapshot)  # stored as JSON


def test_an_unreachable_node_opens_one_alert_and_leaves_its_own_agreements_unknown() -> None:
    down = NodeCheck("idp3", NodeState.UNREACHABLE, "could not connect")
    result = run(
        node("idp1", idp3=AgreementState.UNREACHABLE),
        node("idp2", idp3=AgreementState.UNREACHABLE),
        down,
    )
    keys = {f.key: f for f in result.findings}
    assert set(keys) == {
        "node-unreachable:idp3",
        "agreement:idp1<-idp3",
        "agreement:idp2<-idp3",
    }
    assert "cannot reach the provider" in keys["agreement:idp1<-idp3"].message
    assert {"agreement:idp3<-idp1", "node-down:idp3"} <= set(result.unknown)
    health = {n["host"]: n["health"] for n in result.snapshot["nodes"]}
    assert health == {"idp1": "critical", "idp2": "critical", "idp3": "critical"}


def test_slapd_down_is_told_apart_from_ssh() -> None:
    result = run(node("idp1"), node("idp2"), NodeCheck("idp3", NodeState.SLAPD_DOWN, "(-1)"))
    assert [f.key for f in result.findings] == ["node-down:idp3"]
    assert "node-unreachable:idp3" not in result.unknown  # judged: resolves if it was open


@pytest.mark.parametrize(
    ("state", "words"),
    [
        (AgreementState.CREDENTIALS, "credentials"),
        (AgreementState.TLS, "TLS"),
        (AgreementState.ERROR, "check failed"),
    ],
)
def test_a_broken_agreement_says_why(state: AgreementState, words: str) -> None:
    result = run(node("idp1", idp2=state), node("idp2"), node("idp3"))
    (finding,) = result.findings
    assert finding.key == "agreement:idp1<-idp2" and finding.severity is Severity.CRITICAL
    assert words in finding.message


def test_a_missing_agreement_is_a_warning() -> None:
    partial = NodeCheck("idp1", NodeState.OK, "", {}, node("idp1").agreements[:1])
    result = run(partial, node("idp2"), node("idp3"))
    assert [(f.key, f.severity) for f in result.findings] == [
        ("agreement:idp1<-idp3", Severity.WARNING)
    ]


def test_divergence_only_after_staying_behind_with_a_healthy_agreement() -> None:
    behind = NodeCheck(
        "idp1",
        NodeState.OK,
        "",
        {**node("idp1").context_csn, "002": "20261127025900.000000Z#000000#002#000000"},
        node("idp1").agreements,
    )
    tracker = Divergence(30)
    first = run(behind, node("idp2"), node("idp3"), divergence=tracker)
    assert first.findings == []
    later = run(
        behind, node("idp2"), node("idp3"), divergence=tracker, now=NOW + timedelta(seconds=31)
    )
    assert [f.key for f in later.findings] == ["divergence:idp1<-idp2"]
    assert any(m.host == "idp1" and m.peer == "idp2" and m.value == 60 for m in later.measures)

    broken = node("idp1", idp2=AgreementState.TLS)
    broken = NodeCheck("idp1", NodeState.OK, "", behind.context_csn, broken.agreements)
    again = run(
        broken, node("idp2"), node("idp3"), divergence=tracker, now=NOW + timedelta(seconds=40)
    )
    assert [f.key for f in again.findings] == ["agreement:idp1<-idp2"]  # the cause, not divergence


def test_a_probe_that_does_not_arrive() -> None:
    probe = Probe("idp1", NOW, {"idp2": 0.05, "idp3": None})
    (finding,) = probe_findings(probe, 3.0)
    assert (
        finding.key == "probe:idp1" and "idp3" in finding.message and "idp2" not in finding.message
    )
    assert probe_findings(Probe("idp1", NOW, {"idp2": 0.05}), 3.0) == []


def test_parse_node_check() -> None:
    answer = {
        "slapd": "ok",
        "reason": "",
        "context_csn": [CSN.format(sid=1), "garbage"],
        "agreements": [
            {"rid": "002", "provider": "ldap://idp2:389", "state": "tls", "reason": "(-11)"}
        ],
    }
    parsed = parse_node_check("idp1", json.dumps(answer))
    assert parsed.state is NodeState.OK and parsed.context_csn == {"001": CSN.format(sid=1)}
    assert parsed.agreements == (Agreement("idp2", "002", AgreementState.TLS, "(-11)"),)
    down = parse_node_check("idp1", json.dumps({"slapd": "down", "reason": "(-1)"}))
    assert down.state is NodeState.SLAPD_DOWN and down.reason == "(-1)"
    with pytest.raises(ValueError):
        parse_node_check("idp1", "not json")


A = Finding("a", Severity.CRITICAL, "a")
B = Finding("b", Severity.WARNING, "b")


@pytest.mark.parametrize(
    ("findings", "open_keys", "unknown", "judged", "opens", "refreshes", "resolves"),
    [
        ([A], [], [], None, ["a"], [], []),
        ([A], ["a"], [], None, [], ["a"], []),
        ([], ["a"], [], None, [], [], ["a"]),
        ([], ["a"], ["a"], None, [], [], []),
        ([A], ["a"], ["a"], None, [], ["a"], []),
        ([B], ["a", "c"], [], ["c"], ["b"], [], ["c"]),
    ],
)
def test_alert_transitions(
    findings: list[Finding],
    open_keys: list[str],
    unknown: list[str],
    judged: list[str] | None,
    opens: list[str],
    refreshes: list[str],
    resolves: list[str],
) -> None:
    change = transition(findings, open_keys, unknown, judged=judged)
    assert [f.key for f in change.open] == opens
    assert [f.key for f in change.refresh] == refreshes
    assert list(change.resolve) == resolves


def test_since_takes_durations_and_times() -> None:
    assert parse_since("90m", NOW) == NOW - timedelta(minutes=90)
    assert parse_since("2d", NOW) == NOW - timedelta(days=2)
    assert parse_since("2026-11-27T01:00:00", NOW) == datetime(2026, 11, 27, 1, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        parse_since("yesterday", NOW)


class RefusingConnection:
    """A node whose every command fails as ldapadd does without the right to write."""

    host = "idp1"

    async def run(self, command: Command, *, timeout: float | None = None) -> Result:
        stderr = "ldap_add: Insufficient access (50)\n\tadditional info: no write access\n"
        return Result(self.host, command, 50, "", stderr)


class OneNode:
    async def connection(self, host: str) -> RefusingConnection:
        return RefusingConnection()


async def test_a_failed_probe_write_is_an_alert_in_words_with_the_script_in_its_details() -> None:
    with pytest.raises(ClustermgrError) as failed:
        await ldap_status.probe(OneNode(), "idp1", ["idp2"], timeout=1.0)  # type: ignore[arg-type]
    (finding,) = probe_findings(Probe.failed("idp1", NOW, ["idp2"], failed.value), 3.0)
    assert finding.message == (
        "a probe write on idp1 failed: idp1: a shell script exited with status 50: "
        "additional info: no write access"
    )
    assert "ldapadd" in finding.details and "Insufficient access" in finding.details
    assert "ldapadd" not in finding.message and "\n" not in finding.message


def test_a_node_check_that_could_not_run_keeps_its_command_in_the_details() -> None:
    check = NodeCheck(
        "idp1",
        NodeState.ERROR,
        "idp1: a Python script exited with status 1",
        details="command: python3 -c ...",
    )
    (finding,) = node_findings(check)
    assert (
        finding.message
        == "the check of idp1 could not run: idp1: a Python script exited with status 1"
    )
    assert finding.details == "command: python3 -c ..."
