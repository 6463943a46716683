"""Input validation: every malformed field is refused with a message naming it."""

from __future__ import annotations

import pytest

from clustermgr.errors import InvalidInput
from clustermgr.inventory.schemas import (
    ClusterSettings,
    ClusterSettingsUpdate,
    ClusterView,
    NodeState,
    ServerSpec,
    ServerView,
    nodes,
    validate_address,
    validate_hostname,
)
from clustermgr.topology import Role

GOOD = {"cluster": "lab", "hostname": "idp1.example.org", "address": "10.0.0.5", "role": "identity"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("idp1.example.org", "idp1.example.org"),
        ("IDP1.Example.ORG.", "idp1.example.org"),
        ("node1", "node1"),
        ("a-b.c-d.io", "a-b.c-d.io"),
    ],
)
def test_valid_hostnames(value: str, expected: str) -> None:
    assert validate_hostname(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "-idp.example.org",
        "idp-.example.org",
        "idp_1.example.org",
        "idp..example.org",
        "10.0.0.1",
        "a" * 64 + ".org",
        "idp 1.org",
        "idp1.example.org/x",
    ],
)
def test_invalid_hostnames(value: str) -> None:
    with pytest.raises(InvalidInput, match="invalid hostname"):
        validate_hostname(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.0.0.1", "10.0.0.1"),
        ("::1", "::1"),
        ("[fe80::1]", "fe80::1"),
        ("db.example.org", "db.example.org"),
    ],
)
def test_addresses(value: str, expected: str) -> None:
    assert validate_address(value) == expected


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hostname", "bad_host", "invalid hostname"),
        ("address", "999.1.1.1/8", "invalid address"),
        ("role", "database", "invalid role 'database'"),
        ("ssh_port", 0, "invalid SSH port 0"),
        ("ssh_port", 70000, "invalid SSH port 70000"),
        ("ssh_user", "root; rm -rf /", "invalid SSH user"),
        ("cluster", "Lab Cluster", "invalid cluster name"),
    ],
)
def test_server_spec_refuses_bad_fields(field: str, value: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        ServerSpec.parse(**{**GOOD, field: value})  # type: ignore[arg-type]


def test_server_spec_defaults_address_to_hostname() -> None:
    spec = ServerSpec.parse(**{**GOOD, "address": None})  # type: ignore[arg-type]
    assert spec.address == "idp1.example.org" and spec.role is Role.IDENTITY


@pytest.mark.parametrize(
    "value", ["idp example.org", "10.0.0.1", "idp_1.example.org", "-idp.example.org", "", "a\nb"]
)
def test_a_public_hostname_that_is_no_host_name_is_refused_naming_the_field(
    value: object,
) -> None:
    for model in (ClusterSettings, ClusterSettingsUpdate):
        with pytest.raises(InvalidInput) as refused:
            model.parse({"public_hostname": value})
        message = refused.value.message
        assert message.startswith("invalid cluster settings: public_hostname: ")
        assert "a DNS host name, e.g. idp1.example.org" in message


def test_a_public_hostname_is_kept_in_its_canonical_form() -> None:
    assert ClusterSettings.parse({"public_hostname": "IdP.Example.ORG."}).public_hostname == (
        "idp.example.org"
    )
    with pytest.raises(InvalidInput, match="Extra inputs"):
        ClusterSettingsUpdate.parse({"public_hostname": "idp.example.org", "hosts_file": "/x"})


def server(hostname: str, role: Role) -> ServerView:
    return ServerView(1, "c", hostname, "10.0.0.1", 22, "root", role, None)


def test_the_public_hostname_is_the_proxys_unless_set() -> None:
    servers = (
        server("idp1.example.org", Role.IDENTITY),
        server("lb1.example.org", Role.PROXY),
        server("lb2.example.org", Role.PROXY),
    )
    default = ClusterView(1, "c", ClusterSettings(), servers)
    assert (default.public_hostname, default.issuer) == (
        "lb1.example.org",
        "https://lb1.example.org",
    )
    chosen = ClusterView(1, "c", ClusterSettings(public_hostname="idp.example.org"), servers)
    assert (chosen.public_hostname, chosen.issuer) == ("idp.example.org", "https://idp.example.org")
    assert chosen.as_dict()["public_hostname"] == "idp.example.org"
    bare = ClusterView(1, "c", ClusterSettings(), servers[:1])
    assert (bare.public_hostname, bare.issuer) == (None, None)


def _view(host: str, role: Role, state: NodeState) -> ServerView:
    return ServerView(0, "c", host, "192.0.2.1", 22, "root", role, None, (), state)


def test_components_pick_nodes_by_state() -> None:
    """Joining nodes are set up but not served; leaving ones are neither."""
    servers = (
        _view("idp1", Role.IDENTITY, NodeState.MEMBER),
        _view("idp2", Role.IDENTITY, NodeState.JOINING),
        _view("idp3", Role.IDENTITY, NodeState.LEAVING),
        _view("proxy", Role.PROXY, NodeState.MEMBER),
    )
    cluster = ClusterView(1, "c", ClusterSettings(), servers)
    assert cluster.hostnames() == ["idp1", "idp2", "proxy"]
    assert cluster.hostnames(Role.IDENTITY) == ["idp1", "idp2"]
    assert cluster.hostnames(Role.IDENTITY, serving=True) == ["idp1"]
    assert [s.hostname for s in nodes(servers, Role.PROXY)] == ["proxy"]
    assert cluster.as_dict()["servers"][1]["state"] == "joining"  # type: ignore[index]


@pytest.mark.parametrize(
    ("role", "state", "message"),
    [
        ("proxy", "joining", "joins as an identity node"),
        ("identity", "leaving", "never leaving"),
        ("identity", "gone", "invalid node state"),
    ],
)
def test_a_server_is_added_as_a_member_or_a_joining_identity_node(
    role: str, state: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        ServerSpec.parse(cluster="c", hostname="n.c.test", address=None, role=role, state=state)
    joining = ServerSpec.parse(
        cluster="c", hostname="n.c.test", address=None, role="identity", state="joining"
    )
    assert joining.state is NodeState.JOINING
