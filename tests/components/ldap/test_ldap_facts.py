"""The cn=config fact, from a recorded ldapsearch of a lab node."""

from __future__ import annotations

import pytest

from clustermgr.facts.base import FactParseError
from clustermgr.facts.ldap import parse_slapd_config

RECORDED = """\
dn: cn=config
olcServerID: 1 ldap://idp1.lab.test/
olcServerID: 2 ldap://idp2.lab.test/

dn: cn=module{0},cn=config
olcModuleLoad: {0}back_mdb
olcModuleLoad: {1}syncprov

dn: olcDatabase={-1}frontend,cn=config
olcDatabase: {-1}frontend

dn: olcDatabase={1}mdb,cn=config
olcDatabase: {1}mdb
olcSuffix: o=gluu
olcDbDirectory: /var/lib/ldap/gluu
olcAccess: {0}to * by users read by * none
olcMultiProvider: TRUE

dn: olcOverlay={0}syncprov,olcDatabase={1}mdb,cn=config
olcOverlay: {0}syncprov
"""


def test_parse_slapd_config() -> None:
    config = parse_slapd_config(RECORDED)
    assert config.server_ids == ("1 ldap://idp1.lab.test/", "2 ldap://idp2.lab.test/")
    assert config.module_dn == "cn=module{0},cn=config"
    assert config.modules == {"back_mdb", "syncprov"}
    main = config.database("o=gluu")
    assert main is not None and main.dn == "olcDatabase={1}mdb,cn=config"
    assert main.overlays == {"syncprov"} and main.multi_provider
    assert main.access == ("to * by users read by * none",)
    assert config.database("cn=accesslog") is None and config.next_index == 2


def test_unusable_output() -> None:
    with pytest.raises(FactParseError):
        parse_slapd_config("hello\n")
