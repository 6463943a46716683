"""Renderers and the read-back check of LDAP replication, from tables."""

from __future__ import annotations

import pytest

from clustermgr.components.ldap import hostcheck, render
from clustermgr.components.ldap.model import Member, Replication, ReplicationSettings
from clustermgr.errors import InvalidInput
from clustermgr.facts.ldif import parse_ldif
from clustermgr.redact import MASK, Secret

IDP1, IDP2, IDP3 = Member("idp1.x.test", 1), Member("idp2.x.test", 2), Member("idp3.x.test", 7)
PASSWORD = Secret("Repl-Secret-For-Tests-1", label="replicator")
SETTINGS = ReplicationSettings()


def test_server_ids_name_hosts_by_hostname() -> None:
    ldif = render.server_ids([IDP3, IDP1])
    assert "olcServerID: 1 ldap://idp1.x.test/\nolcServerID: 7 ldap://idp3.x.test/" in ldif
    assert ldif.startswith("dn: cn=config\nchangetype: modify\nreplace: olcServerID\n")


def test_agreements_one_per_peer_and_secret() -> None:
    text = render.agreements(
        "olcDatabase={1}mdb,cn=config", [IDP3, IDP2], PASSWORD, ReplicationSettings()
    )
    assert str(text) == MASK
    ldif = text.reveal()
    assert ldif.count("olcSyncrepl: ") == 2
    assert "{0}rid=002 provider=ldap://idp2.x.test:389" in ldif
    assert "{1}rid=007 provider=ldap://idp3.x.test:389" in ldif
    assert 'retry="5 5 60 +" syncdata=accesslog' in ldif
    assert 'starttls=critical tls_reqcert=demand tls_cacert="/etc/ldap/tls/ca.pem"' in ldif
    assert "olcMultiProvider: TRUE" in ldif


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (
            "bindDN: x\nservers: localhost:389\nuseSSL: false\n",
            "bindDN: x\nservers: a:389,b:389\nuseSSL: false\n",
        ),
        ("bindDN: x\n", "bindDN: x\nservers: a:389,b:389\n"),
    ],
)
def test_ox_ldap_properties_servers_line(current: str, expected: str) -> None:
    assert render.ox_ldap_properties(current, ["a:389", "b:389"]) == expected


def test_ox_ldap_servers_self_first() -> None:
    assert render.ox_ldap_servers(IDP2, [IDP3, IDP1]) == [
        "idp2.x.test:389",
        "idp1.x.test:389",
        "idp3.x.test:389",
    ]


def test_replication_refuses_duplicate_ids() -> None:
    with pytest.raises(ValueError, match="unique"):
        Replication((IDP1, Member("other", 1)), PASSWORD)


PLAIN_SYNCREPL = (
    "dn: olcDatabase={1}mdb,cn=config\nolcSyncrepl: {0}rid=002 provider=ldap://idp2.x.test:389 "
    'bindmethod=simple binddn="cn=replicator,o=gluu" credentials="Repl-Secret-For-Tests-1" '
    'searchbase="o=gluu" logbase="cn=accesslog" type=refreshAndPersist retry="5 5 60 +" '
    "syncdata=accesslog\nolcMultiProvider: TRUE\n"
)
# As slapd gives it back: TLS options with its defaults added, quotes moved.
SLAPD_SYNCREPL = PLAIN_SYNCREPL.replace(
    "syncdata=accesslog",
    'syncdata=accesslog starttls=critical tls_cacert="/etc/ldap/tls/ca.pem" '
    "tls_reqcert=demand tls_crlcheck=none tls_protocol_min=0.0",
)


@pytest.mark.parametrize(
    ("ldif", "attr", "want", "exact", "ok"),
    [
        (
            SLAPD_SYNCREPL,
            "olcSyncrepl",
            [render.syncrepl_check_tokens(IDP2, PASSWORD, ReplicationSettings())],
            True,
            True,
        ),
        (
            SLAPD_SYNCREPL,
            "olcSyncrepl",
            [render.syncrepl_check_tokens(IDP3, PASSWORD, ReplicationSettings())],
            True,
            False,
        ),
        (
            PLAIN_SYNCREPL,
            "olcSyncrepl",
            [render.syncrepl_check_tokens(IDP2, PASSWORD, ReplicationSettings())],
            True,
            False,
        ),
        (SLAPD_SYNCREPL, "olcSyncrepl", [], True, False),
        (SLAPD_SYNCREPL, "olcMultiProvider", [["TRUE"]], False, True),
        (
            "dn: cn=module{0},cn=config\nolcModuleLoad: {0}back_mdb\nolcModuleLoad: {1}syncprov.la\n",
            "olcModuleLoad",
            [["syncprov"]],
            False,
            True,
        ),
        (
            "dn: cn=config\nolcServerID: 1 ldap://a/\n",
            "olcServerID",
            [["1", "ldap://a/"], ["2", "ldap://b/"]],
            True,
            False,
        ),
        (
            "dn: cn=config\nolcServerID:: MSBsZGFwOi8vYS8=\n",
            "olcServerID",
            [["1", "ldap://a/"]],
            True,
            True,
        ),
    ],
)
def test_hostcheck_compares_tokens(
    ldif: str, attr: str, want: list[list[str]], exact: bool, ok: bool
) -> None:
    entries = parse_ldif(ldif)
    assert hostcheck.satisfied(entries, {"attr": attr, "want": want, "exact": exact}) is ok


@pytest.mark.parametrize(
    "hostname",
    ["idp1.x.test\nolcServerID: 9 ldap://evil/", "idp1.x.test bindmethod=none", 'idp1"x'],
)
def test_members_that_bypassed_the_inventory_checks_are_refused(hostname: str) -> None:
    bad = Member(hostname, 1)
    for render_it in (
        lambda: render.server_ids([bad, IDP2]),
        lambda: render.agreements("olcDatabase={1}mdb,cn=config", [bad], PASSWORD, SETTINGS),
        lambda: render.ox_ldap_servers(IDP2, [bad]),
    ):
        with pytest.raises(InvalidInput, match="refusing to write to a server"):
            render_it()


@pytest.mark.parametrize("password", ['pw" credentials="x', "pw\\", "pw\nx", "pw x"])
def test_a_replicator_password_ldif_cannot_carry_is_refused(password: str) -> None:
    with pytest.raises(InvalidInput):
        render.syncrepl_value(IDP2, Secret(password, label="t"), SETTINGS)
