from __future__ import annotations

import base64

import pytest

from clustermgr.facts.ldif import (
    LDAPMODIFY_ROOT,
    LDAPSEARCH_ROOT,
    parse_ldif,
    raw_entries,
    strip_order,
    tokens,
    values,
)

ENCODED = base64.b64encode("é x".encode()).decode()
LDIF = f"""\
# a comment
dn: cn=config
olcServerID: 1 ldap://a/
olcServerID: 2 ldap://b/

dn: olcDatabase={{1}}mdb,cn=config
olcSuffix: o=gluu
olcAccess: {{0}}to * by dn.exact="cn=replicator,o=gluu" read
  by * break
description:: {ENCODED}
"""


def test_entries_with_names_lower_cased_continuations_and_base64() -> None:
    (config, db) = parse_ldif(LDIF)
    assert config == ("cn=config", {"olcserverid": ["1 ldap://a/", "2 ldap://b/"]})
    assert db[0] == "olcDatabase={1}mdb,cn=config"
    assert db[1]["olcaccess"] == ['{0}to * by dn.exact="cn=replicator,o=gluu" read by * break']
    assert db[1]["description"] == ["é x"]


def test_raw_entries_keep_bytes_and_stream() -> None:
    lines = iter(LDIF.encode().splitlines(keepends=True))
    first = next(raw_entries(lines))
    assert first == ("cn=config", {"olcserverid": [b"1 ldap://a/", b"2 ldap://b/"]})


def test_values_and_dns() -> None:
    found = parse_ldif(LDIF)
    assert values(found, "olcSuffix") == ["o=gluu"]
    assert values(found, "dn") == ["cn=config", "olcDatabase={1}mdb,cn=config"]
    assert values(found, "missing") == []


def test_empty_output_has_no_entries() -> None:
    assert parse_ldif("") == []
    assert parse_ldif("\n\n# nothing\n") == []


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("olcModuleLoad", "{0}/usr/lib/ldap/syncprov.la", {"syncprov"}),
        ("olcModuleLoad", "accesslog.so", {"accesslog"}),
        ("olcLimits", '{0}dn.exact="x" size=unlimited', {"dn.exact=x", "size=unlimited"}),
        ("olcAccess", 'to "unbalanced', {'to "unbalanced'}),
    ],
)
def test_tokens(name: str, value: str, expected: set[str]) -> None:
    assert tokens(name, value) == expected


def test_strip_order() -> None:
    assert strip_order("{-1}frontend") == "frontend"
    assert strip_order("no{1}order") == "no{1}order"


def test_root_tools_go_over_ldapi_with_sasl_external() -> None:
    for command in (LDAPSEARCH_ROOT, LDAPMODIFY_ROOT):
        joined = " ".join(command)
        assert "-Y EXTERNAL" in joined and "-H ldapi:///" in joined
