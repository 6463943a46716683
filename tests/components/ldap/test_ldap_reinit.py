"""Re-initialisation: requests refused before anything runs; what the confirmation says."""

from __future__ import annotations

import pytest

from clustermgr.components.ldap import reload
from clustermgr.components.ldap.model import Member
from clustermgr.components.ldap.repair import ReinitPreview, validate
from clustermgr.errors import InvalidInput
from clustermgr.facts.services import ServiceControl

MEMBERS = (Member("idp1.x", 1), Member("idp2.x", 2))


@pytest.mark.parametrize(
    ("node", "source", "words"),
    [
        ("idp1.x", "idp1.x", "from itself"),
        ("idp9.x", "idp1.x", "node 'idp9.x' is not an identity server"),
        ("idp1.x", "proxy.x", "source 'proxy.x' is not an identity server"),
    ],
)
def test_bad_requests_are_refused(node: str, source: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        validate(MEMBERS, node, source)


def test_a_good_request_names_both_members() -> None:
    assert validate(MEMBERS, "idp2.x", "idp1.x") == (MEMBERS[1], MEMBERS[0])


def test_the_confirmation_says_what_is_lost() -> None:
    ahead = ReinitPreview("idp2.x", "idp1.x", 2, 12.5, {"extra": 3, "different": 1}).text()
    assert "every change on idp2.x that has not reached idp1.x is lost" in ahead
    assert "server id 2" in ahead and "12.5 s" in ahead
    assert "1 different, 3 extra" in ahead
    level = ReinitPreview("idp2.x", "idp1.x", 2, 0.0, {}).text()
    assert "idp1.x has every change idp2.x made itself" in level
    assert "holds the same entries" in level
    unknown = ReinitPreview("idp2.x", "idp1.x", 2, None, {}, "cannot read o=gluu").text()
    assert "Cannot tell" in unknown and "cannot be read now: cannot read o=gluu" in unknown


def test_reinit_plan_loads_then_can_roll_back() -> None:
    services = ServiceControl("sysv")
    plan = reload.plan_reinit("c", "idp2.x", "idp1.x", "/var/lib/ldap", b"dn: o=gluu\n", services)
    (step,) = plan.steps
    assert step.host == "idp2.x" and step.check is None, "a requested reload always runs"
    script = str(step.commands[0])
    assert "slapadd" in script and "/var/lib/ldap/accesslog" in script
    assert step.commands[0].stdin_bytes() == b"dn: o=gluu\n"
    assert step.verify is not None and step.rollback
    assert "mv" in str(step.rollback[0])


EXPORT = b"""\
dn: o=gluu
objectClass: organization
o: gluu
contextCSN: 20261127010000.000000Z#000000#001#000000
contextCSN: 20261127010000.000000Z#000000#002#000000
entryCSN: 20261127000000.000000Z#000000#001#000000

dn: ou=people,o=gluu
contextCSN: not-touched-here
ou: people

"""


def test_an_export_gets_the_newer_live_context_csn() -> None:
    live = [
        "20261127010005.000000Z#000000#001#000000",  # newer than the checkpointed one
        "20261127005959.000000Z#000000#002#000000",  # older: the export's stays
        "20261127010001.000000Z#000000#003#000000",  # not in the export at all
    ]
    out = reload.with_context_csn(EXPORT, live).decode()
    suffix, people = out.split("\n\n")[:2]
    assert [line for line in suffix.splitlines() if line.startswith("contextCSN")] == [
        "contextCSN: 20261127010005.000000Z#000000#001#000000",
        "contextCSN: 20261127010000.000000Z#000000#002#000000",
        "contextCSN: 20261127010001.000000Z#000000#003#000000",
    ]
    assert "entryCSN: 20261127000000.000000Z#000000#001#000000" in suffix
    assert "contextCSN: not-touched-here" in people
    assert out.endswith("\n\n")


def test_an_export_without_the_suffix_is_left_alone() -> None:
    assert reload.with_context_csn(b"dn: ou=x,o=gluu\nou: x\n", ["garbage"]) == (
        b"dn: ou=x,o=gluu\nou: x\n"
    )


@pytest.mark.parametrize(
    ("init", "driver"), [("sysv", 'service "$1" "$2"'), ("systemd", 'systemctl "$2" "$1"')]
)
def test_reinit_stops_and_starts_slapd_the_way_the_node_does(init: str, driver: str) -> None:
    services = ServiceControl(init)
    (step,) = reload.plan_reinit("c", "n", "s", "/var/lib/ldap", b"", services).steps
    for command in (step.commands[0], *step.rollback):
        text = command.render()
        assert driver in text and "svc slapd stop" in text and "svc slapd start" in text
