"""The pairs the cluster needs, derived from the topology, and how each answer reads."""

from __future__ import annotations

from clustermgr.errors import AuthenticationFailed, ConnectTimeout, HostUnreachable
from clustermgr.inventory.schemas import ServerView
from clustermgr.services import netprobe
from clustermgr.services.reachability import (
    MANAGER,
    Matrix,
    Pair,
    PairResult,
    State,
    _member_row,
    _ssh_row,
    allow_rule,
    member_pairs,
)
from clustermgr.topology import Role

IDP1 = ServerView(1, "lab", "idp1.lab.test", "10.0.0.1", 22, "root", Role.IDENTITY, None)
IDP2 = ServerView(2, "lab", "idp2.lab.test", "10.0.0.2", 2222, "admin", Role.IDENTITY, None)
PROXY = ServerView(3, "lab", "proxy.lab.test", "10.0.0.3", 22, "root", Role.PROXY, None)


def test_two_nodes_and_a_proxy_need_exactly_these_pairs() -> None:
    found = {
        (p.source, p.destination, p.address, p.port) for p in member_pairs([IDP1, IDP2, PROXY])
    }
    idp1, idp2, proxy = IDP1.hostname, IDP2.hostname, PROXY.hostname
    assert found == {
        # the manager's SSH, on each member's own SSH port
        (MANAGER, idp1, "10.0.0.1", 22),
        (MANAGER, idp2, "10.0.0.2", 2222),
        (MANAGER, proxy, "10.0.0.3", 22),
        # LDAP replication both ways
        (idp1, idp2, "10.0.0.2", 389),
        (idp1, idp2, "10.0.0.2", 636),
        (idp2, idp1, "10.0.0.1", 389),
        (idp2, idp1, "10.0.0.1", 636),
        # each node's cache client to the proxy's stunnel
        (idp1, proxy, "10.0.0.3", 8888),
        (idp2, proxy, "10.0.0.3", 8888),
        # the proxy to each node's stunnel and web front
        (proxy, idp1, "10.0.0.1", 7777),
        (proxy, idp1, "10.0.0.1", 443),
        (proxy, idp2, "10.0.0.2", 7777),
        (proxy, idp2, "10.0.0.2", 443),
    }
    assert len(member_pairs([IDP1, IDP2, PROXY])) == len(found)


def test_pairs_are_ordered_manager_first_then_by_inventory_and_port() -> None:
    pairs = member_pairs([PROXY, IDP1])
    assert [(p.source, p.destination, p.port) for p in pairs] == [
        (MANAGER, PROXY.hostname, 22),
        (MANAGER, IDP1.hostname, 22),
        (PROXY.hostname, IDP1.hostname, 443),
        (PROXY.hostname, IDP1.hostname, 7777),
        (IDP1.hostname, PROXY.hostname, 8888),
    ]


def test_a_lone_node_needs_only_the_managers_ssh() -> None:
    assert [(p.source, p.port) for p in member_pairs([IDP1])] == [(MANAGER, 22)]


def test_the_rule_names_the_source_and_the_port() -> None:
    assert allow_rule("10.0.0.1", 389) == (
        "nft insert rule inet filter input ip saddr 10.0.0.1 tcp dport 389 accept"
    )
    assert allow_rule("fd00::1", 636) == (
        "nft insert rule inet filter input ip6 saddr fd00::1 tcp dport 636 accept"
    )
    assert allow_rule(None, 22) == "nft insert rule inet filter input tcp dport 22 accept"


LDAP_PAIR = Pair(IDP1.hostname, IDP2.hostname, "10.0.0.2", 389, "LDAP")
OURS = netprobe.Listening(4321, frozenset({389}), frozenset())
THEIRS = netprobe.Listening(None, frozenset(), frozenset({389}))


def test_a_dropped_pair_is_filtered_with_the_rule_on_its_destination() -> None:
    row = _member_row(LDAP_PAIR, "10.0.0.1", ("filtered", "no answer within 3 s"), OURS, None)
    assert (row.state, row.blocked) == (State.FILTERED, True)
    assert row.detail == "no answer within 3 s: a firewall drops it"
    assert row.rule == allow_rule("10.0.0.1", 389)


def test_a_reset_while_our_listener_was_up_is_a_firewall() -> None:
    row = _member_row(LDAP_PAIR, "10.0.0.1", ("refused", "connection refused"), OURS, None)
    assert row.blocked and row.rule is not None
    assert "a firewall rejects it" in row.detail


def test_a_reset_with_no_listener_says_why_none_was_started() -> None:
    failed = netprobe.Listening(None, frozenset(), frozenset(), {389: "Permission denied"})
    row = _member_row(LDAP_PAIR, "10.0.0.1", ("refused", "connection refused"), failed, None)
    assert row.state is State.REFUSED and row.rule is None
    assert row.detail == "refused; no temporary listener could be started (Permission denied)"


def test_an_open_pair_says_who_answered() -> None:
    ours = _member_row(LDAP_PAIR, "10.0.0.1", ("open", ""), OURS, None)
    theirs = _member_row(LDAP_PAIR, "10.0.0.1", ("open", ""), THEIRS, None)
    assert (ours.state, ours.rule, ours.blocked) == (State.OPEN, None, False)
    assert ours.detail == f"the temporary listener on {IDP2.hostname} answered"
    assert theirs.detail == f"the service on {IDP2.hostname} answered"


def test_a_missing_answer_is_an_error_not_a_pass() -> None:
    row = _member_row(LDAP_PAIR, "10.0.0.1", None, OURS, None)
    assert (row.state, row.blocked) == (State.ERROR, False)


def test_the_managers_rows_come_from_its_connections() -> None:
    ssh = Pair(MANAGER, IDP1.hostname, "10.0.0.1", 22, "SSH")
    assert _ssh_row(ssh, None).state is State.OPEN
    timeout = _ssh_row(ssh, ConnectTimeout(IDP1.hostname, "could not connect within 5 s"))
    assert timeout.state is State.FILTERED and timeout.rule is not None
    refused = HostUnreachable(IDP1.hostname, "cannot connect to 10.0.0.1:22: Connection refused")
    assert _ssh_row(ssh, refused).state is State.REFUSED
    login = _ssh_row(ssh, AuthenticationFailed(IDP1.hostname, "the key is refused"))
    assert (login.state, login.rule) == (State.OPEN, None)


def test_the_matrix_is_ok_only_when_every_pair_is_open() -> None:
    ok = PairResult(LDAP_PAIR, State.OPEN)
    bad = PairResult(LDAP_PAIR, State.FILTERED, "dropped", "a rule")
    assert Matrix(("a",), (ok,)).ok
    matrix = Matrix((MANAGER, IDP1.hostname), (ok, bad))
    assert not matrix.ok and matrix.blocked == (bad,)
    data = matrix.as_dict()
    assert data["hosts"] == [MANAGER, IDP1.hostname]
    assert data["pairs"] == [ok.as_dict(), bad.as_dict()]
    assert bad.as_dict()["rule"] == "a rule" and bad.as_dict()["blocked"] is True
