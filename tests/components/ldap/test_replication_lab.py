"""LDAP multi-provider replication on the lab: set up, replicate, converge, refuse bad config."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from clustermgr.components.ldap import apply as ldap
from clustermgr.components.ldap import status as replication_status
from clustermgr.components.ldap import tls
from clustermgr.components.ldap.model import OX_LDAP_PROPERTIES, ReplicationSettings
from clustermgr.core.manager import Manager
from clustermgr.facts.ldap import SLAPD_CONFIG, parse_slapd_config
from clustermgr.pki.ca import new_ca
from clustermgr.plan.events import Event
from clustermgr.plan.model import Outcome
from clustermgr.redact import MASK
from clustermgr.remote.ssh import SshConnection
from labfixture import SLOT, Lab, running_lab
from ldaplab import ADD, LDAPI, add_ou, ldap_status, replicate, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    """A lab of its own: replication changes the nodes for good (data, ox-ldap.properties)."""
    prefix, subnet = SLOT.spare()
    base = tmp_path_factory.mktemp("ldap-lab")
    async with running_lab(base, prefix=prefix, subnet=subnet) as running:
        yield running


async def test_replication_end_to_end(lab: Lab) -> None:
    events: list[Event] = []
    first = await replicate(lab, events)
    assert first["ok"], json.dumps(first, indent=1)

    # Both nodes keep Gluu's tree (a joining node loads the source's data first).
    for node in ("idp1", "idp2"):
        out = await lab.sh(node, f"{LDAPI} -b o=gluu -s one dn")
        assert "dn: ou=people,o=gluu" in out and "dn: cn=replicator,o=gluu" in out
        props = await lab.sh(node, "grep ^servers: /etc/gluu/conf/ox-ldap.properties")
        assert props.startswith(f"servers: {node}.lab.test:389,")

    await add_ou(lab, "idp1", "from-idp1")
    await wait_for(lab, "idp2", "ou=from-idp1,o=gluu")
    await add_ou(lab, "idp2", "from-idp2")
    await wait_for(lab, "idp1", "ou=from-idp2,o=gluu")

    second = await replicate(lab, events)
    counts = second["counts"]
    assert counts == {**{o.value: 0 for o in Outcome}, "unchanged": counts["unchanged"]}, second

    # The replicator's password shows nowhere.
    manager = await Manager.open(lab.settings)
    try:
        async with manager.store() as store:
            cluster = await store.cluster(lab.config.cluster)
            password = await store.cluster_secret(cluster, ldap.REPLICATOR_SECRET, lambda: None)  # type: ignore[arg-type,return-value]
        status = (await replication_status.status(manager, lab.config.cluster)).as_dict()
    finally:
        await manager.close()
    text = json.dumps([first, second, status]) + "".join(e.message for e in events)
    assert password.reveal() not in text

    # The manager reads the agreements, their credentials masked on the node.
    answer = await lab.sh("idp1", '"$@"', *(str(p) for p in SLAPD_CONFIG.command.parts))
    assert password.reveal() not in answer
    main = parse_slapd_config(answer).database("o=gluu")
    assert main is not None and len(main.agreements) == 1
    assert f"credentials={MASK}" in main.agreements[0]
    assert status["probe_seconds"] is not None


async def test_stopped_node_converges(lab: Lab) -> None:
    assert (await replicate(lab, []))["ok"]
    lab.stop("idp2")
    try:
        await lab.sh(
            "idp1",
            "for i in $(seq 1 200); do printf 'dn: ou=bulk%s,o=gluu\\nobjectClass: organizationalUnit\\n"
            f"ou: bulk%s\\n\\n' $i $i; done | {ADD}",
        )
    finally:
        lab.start("idp2")
    await wait_for(lab, "idp2", "ou=bulk200,o=gluu", timeout=60)
    count = await lab.sh("idp2", f"{LDAPI} -b o=gluu -s one '(ou=bulk*)' dn | grep -c ^dn:")
    assert int(count) == 200


async def test_invalid_agreement_is_refused_and_replication_goes_on(lab: Lab) -> None:
    """slapd refuses the new agreements as a whole: the previous ones stay, and serve."""
    assert (await replicate(lab, []))["ok"]
    # A digest: the agreements hold the replicator's password.
    agreements = f"{SYNCREPL} | sha256sum"
    before = {n: await lab.sh(n, agreements) for n in ("idp1", "idp2")}
    report = await replicate(lab, [], settings=ReplicationSettings(retry="never ever"))
    assert not report["ok"]
    assert {n: await lab.sh(n, agreements) for n in ("idp1", "idp2")} == before
    await add_ou(lab, "idp1", "after-refusal")
    await wait_for(lab, "idp2", "ou=after-refusal,o=gluu")


# --- StartTLS with the cluster's CA -------------------------------------------------

SYNCREPL = f"{LDAPI} -o ldif-wrap=no -b olcDatabase={{1}}mdb,cn=config -s base olcSyncrepl"


async def test_replication_runs_over_starttls_and_keys_stay_on_nodes(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetched: list[str] = []
    original = SshConnection.get

    async def recording_get(self: SshConnection, path: str) -> bytes:
        fetched.append(path)
        return await original(self, path)

    monkeypatch.setattr(SshConnection, "get", recording_get)
    events: list[Event] = []
    first = await replicate(lab, events)
    assert first["ok"], json.dumps(first, indent=1)
    second = await replicate(lab, events)
    counts = second["counts"]
    assert counts == {**{o.value: 0 for o in Outcome}, "unchanged": counts["unchanged"]}, second

    assert tls.KEY_FILE not in fetched and tls.CSR_FILE in fetched
    assert set(fetched) <= {tls.CSR_FILE, tls.CERT_FILE, tls.CA_FILE, OX_LDAP_PROPERTIES}, fetched
    text = json.dumps([first, second]) + "".join(e.message for e in events)
    for node in ("idp1", "idp2"):
        key = await lab.sh(node, 'cat "$1"', tls.KEY_FILE)
        assert "PRIVATE KEY" in key
        for line in key.splitlines()[1:-1]:
            assert line not in text
        perms = await lab.sh(node, 'stat -c "%U %a" "$1"', tls.KEY_FILE)
        assert perms.strip() == "openldap 600"
        syncrepl = await lab.sh(node, SYNCREPL)
        assert syncrepl.count("starttls=critical") == 1, syncrepl
        assert syncrepl.count("tls_reqcert=demand") == 1, syncrepl
        assert f"provider=ldap://{'idp2' if node == 'idp1' else 'idp1'}.lab.test:389" in syncrepl

    await add_ou(lab, "idp1", "tls-from-idp1")
    await wait_for(lab, "idp2", "ou=tls-from-idp1,o=gluu")
    await add_ou(lab, "idp2", "tls-from-idp2")
    await wait_for(lab, "idp1", "ou=tls-from-idp2,o=gluu")


async def test_peer_with_a_certificate_from_another_ca_is_refused(lab: Lab) -> None:
    assert (await replicate(lab, []))["ok"]
    stranger = new_ca("not this cluster's CA").cert_pem
    await lab.sh(
        "idp2",
        'printf "%s\\n" "$2" > "$1" && service slapd restart >/dev/null && sleep 1',
        tls.CA_FILE,
        stranger,
    )
    await add_ou(lab, "idp1", "while-idp2-distrusts")
    with pytest.raises(AssertionError, match="not on idp2"):
        await wait_for(lab, "idp2", "ou=while-idp2-distrusts,o=gluu", timeout=6)
    status = await ldap_status(lab)
    pairs = [p for p in status["pairs"] if p["host"] == "idp2.lab.test"]
    assert pairs and not all(p["caught_up"] for p in pairs), status

    repaired = await replicate(lab, [])
    assert repaired["ok"], json.dumps(repaired, indent=1)
    await wait_for(lab, "idp2", "ou=while-idp2-distrusts,o=gluu", timeout=30)
