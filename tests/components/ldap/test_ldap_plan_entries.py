"""The LDAP plan's steps carry the cn=config entries they change, secrets masked."""

from __future__ import annotations

import subprocess
from pathlib import Path

from clustermgr.components.ldap import plan
from clustermgr.components.ldap.model import Member, Replication
from clustermgr.facts.ldap import SLAPD_CONFIG, Database, SlapdConfig, parse_slapd_config
from clustermgr.facts.services import ServiceControl
from clustermgr.plan.entries import entry_diff
from clustermgr.redact import MASK, Secret

DB = "olcDatabase={1}mdb,cn=config"
M1, M2 = Member("idp1.x", 1), Member("idp2.x", 2)
PASSWORD = Secret.held("Repl1cator-Pw-in-plan-entries", label="replicator")
REP = Replication((M1, M2), PASSWORD)


def facts(agreements: tuple[str, ...] = ()) -> plan.LdapFacts:
    main = Database(
        DB,
        1,
        "o=gluu",
        "/var/lib/ldap",
        overlays=frozenset({"syncprov"}),
        access=("to * by users read",),
        multi_provider=bool(agreements),
        agreements=agreements,
    )
    config = SlapdConfig(
        server_ids=("1 ldap://idp1.x/",),
        module_dn="cn=module{0},cn=config",
        modules=frozenset({"back_mdb", "syncprov"}),
        databases=(main,),
    )
    return plan.LdapFacts(config, None, ServiceControl("sysv"))


def diff_of(host: str, title: str, agreements: tuple[str, ...] = ()) -> str:
    steps = plan.plan_ldap("c", REP, {"idp1.x": facts(agreements), "idp2.x": facts()}).for_host(
        host
    )
    (step,) = [s for s in steps if s.title == title]
    return "".join(entry_diff(e).diff for e in step.entries)


def test_every_directory_step_shows_its_entries() -> None:
    steps = plan.plan_ldap("c", REP, {"idp1.x": facts(), "idp2.x": facts()}).for_host("idp1.x")
    assert all(s.entries for s in steps), [s.title for s in steps if not s.entries]


def test_server_ids_modules_and_access_diff_against_the_facts() -> None:
    ids = diff_of("idp1.x", "set the server IDs").splitlines()
    assert " olcServerID: 1 ldap://idp1.x/" in ids and "+olcServerID: 2 ldap://idp2.x/" in ids
    modules = diff_of("idp1.x", "load the syncprov and accesslog modules").splitlines()
    assert "+olcModuleLoad: accesslog" in modules and " olcModuleLoad: syncprov" in modules
    access = diff_of("idp1.x", "let the replicator read o=gluu").splitlines()
    assert " olcAccess: to * by users read" in access
    assert any(x.startswith("+olcAccess: to * by dn.exact=") for x in access)
    created = diff_of("idp1.x", "create the accesslog database")
    assert "--- /dev/null\n+++ ldap:///olcDatabase={2}mdb,cn=config" in created


def test_agreements_show_the_masked_agreements_now_and_after() -> None:
    now = (f"rid=002 provider=ldap://idp9.x:389 credentials={MASK}",)
    diff = diff_of("idp1.x", "set the replication agreements", now)
    lines = diff.splitlines()
    assert f"-olcSyncrepl: rid=002 provider=ldap://idp9.x:389 credentials={MASK}" in lines
    assert any(x.startswith("+olcSyncrepl: rid=002 provider=ldap://idp2.x:389") for x in lines)
    assert " olcMultiProvider: TRUE" in lines
    assert PASSWORD.reveal() not in diff and f"credentials={MASK}" in diff
    replicator = diff_of("idp1.x", "create the replicator account")
    assert f"+userPassword: {MASK}" in replicator.splitlines()
    assert "SSHA" not in replicator and PASSWORD.reveal() not in replicator


def test_the_fact_masks_credentials_on_the_node(tmp_path: Path) -> None:
    """The fact's own command, with ldapsearch replaced by a recorded answer."""
    recorded = tmp_path / "answer.ldif"
    recorded.write_text(
        "dn: cn=config\nolcServerID: 1 ldap://idp1.x/\n\n"
        f"dn: {DB}\nolcDatabase: {{1}}mdb\nolcSuffix: o=gluu\nolcMultiProvider: TRUE\n"
        "olcSyncrepl: {0}rid=001 provider=ldap://idp2.x:389 "
        'credentials="Quoted-Pw-1" retry="5 5"\n'
        "olcSyncrepl: {1}rid=003 credentials=Bare-Pw-2 searchbase=o=gluu\n"
        "olcSyncrepl:: e2NyZWRlbnRpYWxzPUJhc2U2NC1Qdy0zfQ==\n"
    )
    fake = tmp_path / "ldapsearch"
    fake.write_text(f"#!/bin/sh\ncat {recorded}\n")
    fake.chmod(0o755)
    parts = [str(p) for p in SLAPD_CONFIG.command.parts]
    parts[parts.index("ldapsearch")] = str(fake)
    out = subprocess.run(parts, capture_output=True, text=True, check=True).stdout
    for value in ("Quoted-Pw-1", "Bare-Pw-2", "e2NyZWRlbnRpYWxz"):
        assert value not in out
    main = parse_slapd_config(out).database("o=gluu")
    assert main is not None
    assert main.agreements == (
        f'rid=001 provider=ldap://idp2.x:389 credentials={MASK} retry="5 5"',
        f"rid=003 credentials={MASK} searchbase=o=gluu",
    )
