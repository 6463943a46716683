from __future__ import annotations

from typing import Any

import pytest

from clustermgr.facts.ldap import (
    context_csn,
    csn_server_id,
    ldapmodify_root,
    ldapsearch_root,
    root_script,
    split_csn,
)
from clustermgr.redact import Secret
from facts_fixtures import cases, check

CSN = "20261127015000.123456Z#000000#00a#000001"


@pytest.mark.parametrize("case", cases("context_csn"))
def test_context_csn(case: dict[str, Any]) -> None:
    check(context_csn("o=gluu"), case)


def test_split_csn() -> None:
    assert split_csn(f" {CSN}\n") == ("20261127015000.123456Z", "000000", "00a", "000001")
    with pytest.raises(ValueError, match="not a CSN"):
        split_csn("20261127015000.123456Z#000000#00a")


def test_csn_server_id() -> None:
    assert csn_server_id(CSN) == "00a"
    assert csn_server_id("garbage") is None


def test_root_commands() -> None:
    assert str(ldapsearch_root("-b", "cn=config")) == (
        "ldapsearch -LLL -o ldif-wrap=no -Q -Y EXTERNAL -H ldapi:/// -b cn=config"
    )
    modify = ldapmodify_root(Secret("dn: x\n"))
    assert str(modify) == "ldapmodify -Q -Y EXTERNAL -H ldapi:///"
    assert isinstance(modify.stdin, Secret)


def test_root_script_defines_the_options_for_its_body() -> None:
    script = root_script('ldapdelete $LDAPI "$1"', "cn=x")
    assert script.parts[:3] == (
        "sh",
        "-c",
        "LDAPI='-Q -Y EXTERNAL -H ldapi:///'\nldapdelete $LDAPI \"$1\"",
    )
    assert script.parts[3:] == ("sh", "cn=x")
