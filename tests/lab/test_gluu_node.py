"""Lab identity nodes, installed by clustermgr from the lab's package, look like Gluu
nodes from the outside: LDAP, the identity app, logs, a reboot."""

from __future__ import annotations

import json
from typing import Any

import pytest

from clustermgr.components.install import store as install_store
from clustermgr.core.manager import Manager
from clustermgr.lab.gluu import directory as gluu
from clustermgr.redact import Secret
from gluuhttp import https, login
from labfixture import ADMIN_PASSWORD, Lab, eventually, tcp_open

pytestmark = pytest.mark.integration

LDAPI = "ldapsearch -Q -LLL -Y EXTERNAL -H ldapi:///"


async def directory_password(lab: Lab) -> Secret:
    """The directory manager's password, as the install generated and sealed it."""
    manager = await Manager.open(lab.settings)
    try:
        async with manager.store() as store:
            cluster = await store.cluster(lab.config.cluster)
            found = await store.find_cluster_secret(cluster, install_store.LDAP_SECRET)
    finally:
        await manager.close()
    assert found is not None, "the install keeps the directory manager's password"
    return found


async def set_cache(lab: Lab, node: str, config: dict[str, Any], revision: int) -> None:
    """Change oxCacheConfiguration as an administrator does: bound as the directory manager."""
    change = gluu.cache_config_change_ldif(cache_config=config, revision=revision)
    await lab.sh(
        node,
        'umask 077; printf %s "$1" > /run/bindpw\n'
        'printf %s "$2" | ldapmodify -x -H ldapi:/// -D "$3" -y /run/bindpw; rc=$?\n'
        "rm -f /run/bindpw; exit $rc",
        await directory_password(lab),
        change,
        gluu.ROOT_DN,
    )


async def test_directory_holds_the_gluu_tree(lab: Lab) -> None:
    out = await lab.sh("idp1", f"{LDAPI} -b o=gluu -s one dn")
    assert {line for line in out.splitlines() if line} >= {
        "dn: ou=configuration,o=gluu",
        "dn: ou=people,o=gluu",
        "dn: ou=cache,o=gluu",
    }
    config = await lab.sh(
        "idp2", f"{LDAPI} -o ldif-wrap=no -b ou=configuration,o=gluu -s base oxCacheConfiguration"
    )
    value = config.split("oxCacheConfiguration: ", 1)[1].splitlines()[0]
    assert json.loads(value)["cacheProviderType"] == "NATIVE_PERSISTENCE"
    properties = await lab.sh("idp1", f"cat {gluu.OX_LDAP_PROPERTIES}")
    assert "servers: localhost:389" in properties
    assert (await directory_password(lab)).reveal() not in properties, "stored encoded"


async def test_discovery_and_health_answer_on_443(lab: Lab) -> None:
    status, discovery = await https(lab, "idp1", "/.well-known/openid-configuration")
    assert status == 200 and discovery["issuer"] == "https://proxy1.lab.test", "the proxy names all"
    status, health = await https(lab, "idp2", "/oxauth/restv1/health-check")
    assert (status, health) == (200, {"status": "running", "db_status": "online"})


async def test_sessions_in_ldap_then_in_redis_then_back(lab: Lab) -> None:
    status, session = await login(lab, "idp1")
    assert status == 200 and session["cache"] == "NATIVE_PERSISTENCE"
    entry = await lab.sh("idp1", f"{LDAPI} -b ou=cache,o=gluu '(uuid={session['session_id']})' dn")
    assert f"uuid={session['session_id']},ou=cache,o=gluu" in entry
    status, found = await https(lab, "idp1", f"/oxauth/restv1/session/{session['session_id']}")
    assert status == 200 and found["user"] == "admin"

    await lab.sh("idp1", "service redis-server start >/dev/null")
    try:
        await set_cache(lab, "idp1", gluu.redis_cache_config("localhost:6379"), revision=2)
        _, session = await eventually(
            lambda: login(lab, "idp1"),
            until=lambda answer: answer[1]["cache"] == "REDIS",
            timeout=10,
            interval=0,
            what="the app did not switch to Redis",
        )
        stored = await lab.sh("idp1", f"redis-cli GET session_{session['session_id']}")
        assert json.loads(stored)["user"] == "admin"
        status, found = await https(lab, "idp1", f"/oxauth/restv1/session/{session['session_id']}")
        assert status == 200 and found["session_id"] == session["session_id"]
    finally:
        await set_cache(lab, "idp1", gluu.native_cache_config(), revision=3)
        await lab.sh("idp1", "service redis-server stop >/dev/null")
    await eventually(
        lambda: login(lab, "idp1"),
        until=lambda answer: answer[1]["cache"] == "NATIVE_PERSISTENCE",
        timeout=10,
        interval=0,
        what="the app did not switch back to LDAP",
    )
    log = await lab.sh("idp1", f"cat {gluu.OXAUTH_LOG_DIR}/{gluu.OXAUTH_LOG}")
    assert "REDIS" in log and "NATIVE_PERSISTENCE" in log


async def test_wrong_password_is_refused_and_audited_without_the_password(lab: Lab) -> None:
    status, answer = await login(lab, "idp2", password="Wr0ng-Passw0rd-in-test")
    assert status == 401 and answer["error"]
    audit = await lab.sh("idp2", f"cat {gluu.OXAUTH_LOG_DIR}/{gluu.OXAUTH_AUDIT_LOG}")
    assert "admin" in audit and "fail" in audit.lower()
    logs = audit + await lab.sh("idp2", f"cat {gluu.OXAUTH_LOG_DIR}/{gluu.OXAUTH_LOG}")
    assert "Wr0ng-Passw0rd-in-test" not in logs
    assert ADMIN_PASSWORD.reveal() not in logs


async def test_power_cut_gluu_node_comes_back_serving(lab: Lab) -> None:
    host = lab.host("idp2")
    lab.stop("idp2", power_cut=True)
    assert not tcp_open(host.address, 443)
    lab.start("idp2")
    await eventually(lambda: tcp_open(host.address, 443), what="idp2 serves 443 again")
    await eventually(
        lambda: https(lab, "idp2", "/oxauth/restv1/health-check"),
        until=lambda answer: answer[0] == 200,
        timeout=15,
        interval=0.2,
        what="idp2 not healthy after the reboot",
    )
    status, session = await login(lab, "idp2")
    assert status == 200 and session["node"] == "idp2.lab.test"
