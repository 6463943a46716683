"""A node that left the cluster and came back is reloaded, not merged."""

from __future__ import annotations

from clustermgr.components.ldap import plan
from clustermgr.components.ldap.model import Member, Replication
from clustermgr.facts.ldap import Database, SlapdConfig
from clustermgr.facts.services import ServiceControl
from clustermgr.redact import Secret

DB = "olcDatabase={1}mdb,cn=config"
M1, M2, M3 = Member("idp1.x", 1), Member("idp2.x", 2), Member("idp3.x", 4)
REP = Replication((M1, M2, M3), Secret("pw"))


def facts(server_ids: tuple[str, ...], *, multi: bool) -> plan.LdapFacts:
    main = Database(DB, 1, "o=gluu", "/var/lib/ldap", multi_provider=multi)
    config = SlapdConfig(server_ids=server_ids, databases=(main,))
    return plan.LdapFacts(config, None, ServiceControl("sysv"))


CURRENT = ("1 ldap://idp1.x/", "2 ldap://idp2.x/", "4 ldap://idp3.x/")
#: What idp3 kept from before it was removed: it was server 3.
OLD = ("1 ldap://idp1.x/", "2 ldap://idp2.x/", "3 ldap://idp3.x/")


def test_own_server_id() -> None:
    config = SlapdConfig(server_ids=("{0}1 ldap://idp1.x/", "0x3 ldap://IDP3.x"))
    assert plan.own_server_id(config, "ldap://idp1.x/") == 1
    assert plan.own_server_id(config, "ldap://idp3.x/") == 3
    assert plan.own_server_id(config, "ldap://idp2.x/") is None


def test_a_node_back_under_a_new_id_is_stale_and_joins() -> None:
    all_facts = {
        "idp1.x": facts(CURRENT, multi=True),
        "idp2.x": facts(CURRENT, multi=True),
        "idp3.x": facts(OLD, multi=True),
    }
    assert plan.stale(M3, all_facts["idp3.x"]) and not plan.stale(M1, all_facts["idp1.x"])
    assert plan.source_of(REP, all_facts) == M1
    assert plan.joining(REP, all_facts) == [M3]
    prepare = plan.plan_prepare("c", REP, all_facts)
    first = prepare.for_host("idp3.x")[0]
    assert first.title == "stop replicating with the old membership"
    assert all(s.title != first.title for s in prepare.for_host("idp1.x"))
    (join,) = plan.plan_join("c", REP, all_facts, b"dn: o=gluu\n").steps
    assert join.host == "idp3.x" and join.rollback, "a failed load puts the old data back"


def test_a_stale_lowest_id_is_never_the_source() -> None:
    rep = Replication((Member("idp3.x", 1), M2), Secret("pw"))
    all_facts = {
        "idp3.x": facts(("9 ldap://idp3.x/", "2 ldap://idp2.x/"), multi=True),
        "idp2.x": facts(("1 ldap://idp3.x/", "2 ldap://idp2.x/"), multi=True),
    }
    assert plan.source_of(rep, all_facts) == M2
    assert plan.joining(rep, all_facts) == [Member("idp3.x", 1)]


def test_replicating_nodes_with_their_ids_do_not_join() -> None:
    all_facts = {h: facts(CURRENT, multi=True) for h in ("idp1.x", "idp2.x", "idp3.x")}
    assert plan.joining(REP, all_facts) == []
    assert plan.plan_join("c", REP, all_facts, b"").steps == ()
