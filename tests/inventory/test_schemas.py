"""Input validation: every malformed field is refused with a message naming it."""

from __future__ import annotations

import pytest

from clustermgr.errors import InvalidInput
from clustermgr.inventory.schemas import ServerSpec, validate_address, validate_hostname
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
