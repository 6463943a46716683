"""NGINX on the lab's proxy in front of both identity nodes: round robin on /oxauth,
one node per client on /identity, TLS from the cluster CA, 80 redirecting, a second
apply that changes nothing, and an invalid config that never replaces the running one."""

from __future__ import annotations

import itertools
import json
import os
import socket
import ssl
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest

from cli_runner import assert_clean
from clustermgr.components.lb.settings import LbSettings
from clustermgr.components.lb.status import status
from clustermgr.components.registry import job_kinds
from clustermgr.core.manager import Manager
from clustermgr.jobs import service as jobs
from clustermgr.jobs.models import JobState
from clustermgr.jobs.runner import EmbeddedRunner
from clustermgr.lab.gluu import directory as gluu
from clustermgr.pki.store import ensure_ca
from labfixture import SLOT, Lab, running_lab
from lblab import SERVED_BY, balance, client, only_unchanged, proxy_url, served_by, settings_of
from polling import eventually

pytestmark = pytest.mark.integration

SITE = "/etc/nginx/conf.d/clustermgr-lb.conf"


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    prefix, subnet = SLOT.spare()
    base = tmp_path_factory.mktemp("lb-lab")
    async with running_lab(base, prefix=prefix, subnet=subnet) as running:
        first = await balance(running)
        assert first["ok"], json.dumps(first, indent=1)
        yield running


async def test_a_second_apply_and_a_plan_change_nothing(lab: Lab) -> None:
    second = await balance(lab)
    assert only_unchanged(second), json.dumps(second, indent=1)
    planned = await balance(lab, dry_run=True)
    assert only_unchanged(planned), json.dumps(planned, indent=1)


async def test_oxauth_is_balanced_round_robin(lab: Lab) -> None:
    url = proxy_url(lab, "/oxauth/.well-known/openid-configuration")
    with client() as http:
        nodes = [served_by(http, url) for _ in range(20)]
    counts = Counter(nodes)
    assert set(counts) == {"idp1", "idp2"}, counts
    assert abs(counts["idp1"] - counts["idp2"]) <= 2, counts
    assert all(a != b for a, b in itertools.pairwise(nodes)), nodes


async def test_identity_keeps_a_client_on_one_node(lab: Lab) -> None:
    url = proxy_url(lab, "/identity/home.htm")
    for _ in range(3):  # new connections, same client address
        with client() as http:
            nodes = {served_by(http, url) for _ in range(10)}
        assert len(nodes) == 1, nodes


async def test_http_redirects_to_https(lab: Lab) -> None:
    response = httpx.get(proxy_url(lab, "/oxauth/x?y=1", "http"), timeout=10)
    assert response.status_code == 301
    assert response.headers["Location"] == proxy_url(lab, "/oxauth/x?y=1")


async def test_the_certificate_is_issued_by_the_cluster_ca(lab: Lab) -> None:
    manager = await Manager.open(lab.settings)
    try:
        ca = await ensure_ca(manager, lab.config.cluster)
    finally:
        await manager.close()
    context = ssl.create_default_context(cadata=ca.cert_pem)
    # The proxy, and each identity node the proxy verifies, for its own name.
    for name in ("proxy1", "idp1", "idp2"):
        host = lab.host(name)
        with (
            socket.create_connection((host.address, 443), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=host.fqdn) as tls,
        ):
            assert tls.getpeercert() is not None
    site = await lab.sh("proxy1", f"cat {SITE}")
    assert "proxy_ssl_verify on;" in site


async def test_an_invalid_config_never_replaces_the_running_one(lab: Lab) -> None:
    before = await lab.sh("proxy1", f"cat {SITE}")
    imported = cli(
        lab,
        "lb",
        "certificate",
        lab.config.cluster,
        "--cert-file",
        "/etc/nginx/tls/missing.pem",
        "--key-file",
        "/etc/nginx/tls/missing.key",
    )
    assert imported.returncode == 0, imported.stderr
    try:
        report = await balance(lab)
        assert not report["ok"]
        failed = [r for r in report["hosts"]["proxy1.lab.test"] if r["outcome"] == "failed"]
        assert [r["title"] for r in failed] == ["configure the load balancer"], failed
        assert "missing.pem" in failed[0]["stderr_tail"], failed
        assert await lab.sh("proxy1", f"cat {SITE}") == before
        url = proxy_url(lab, "/oxauth/.well-known/openid-configuration")
        with client() as http:
            assert {served_by(http, url) for _ in range(4)} == {"idp1", "idp2"}
    finally:
        assert cli(lab, "lb", "certificate", lab.config.cluster, "--ca").returncode == 0
    assert await settings_of(lab) == LbSettings(applied=True)  # set up by the first apply
    assert only_unchanged(await balance(lab))


async def test_status_shows_every_backend_and_nginx_counters(lab: Lab) -> None:
    manager = await Manager.open(lab.settings)
    try:
        report = await status(manager, lab.config.cluster)
        # The GUI's "Status now": a healthy balancer is a succeeded job, not a failed one.
        kinds = job_kinds()
        held = EmbeddedRunner(manager, kinds)
        job = await jobs.submit(
            manager, held, kind_name="lb-status", cluster=lab.config.cluster, user="t"
        )
        await held.wait(job.id)
        done = await jobs.get(manager, job.id)
    finally:
        await manager.close()
    assert report.ok, report.as_dict()
    assert done.state is JobState.SUCCEEDED and done.result and done.result["ok"] is True
    assert done.result["open_alerts"] == []
    result = report.as_dict()
    assert result["set_up"] and result["proxy"] == "proxy1.lab.test"
    rows = {b["host"]: b for b in result["backends"]}
    assert set(rows) == {"idp1.lab.test", "idp2.lab.test"}
    for row in rows.values():
        assert row["state"] == "up" and row["healthy"] and row["status"] == 200
        assert 0 < row["seconds"] < 3 and row["checked_at"]
    counters = result["nginx"]["stub_status"]
    assert counters["requests"] > 0 and counters["active"] >= 1
    assert all(result["nginx"]["deployed"].values())


def cli(lab: Lab, *args: str) -> subprocess.CompletedProcess[str]:
    """The real ``clustermgr`` command on the lab's manager data."""
    env = {**os.environ, "CLUSTERMGR_DATA_DIR": str(lab.settings.data_dir)}
    env.pop("CLUSTERMGR_DATABASE_URL", None)
    ran = subprocess.run(
        [sys.executable, "-m", "clustermgr", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert_clean(args, ran.stdout, ran.stderr)
    return ran


async def test_the_cli_shows_status_and_chooses_a_location_with_the_caveat(lab: Lab) -> None:
    cluster = lab.config.cluster
    status = cli(lab, "lb", "status", cluster, "--json")
    assert status.returncode == 0, status.stderr
    assert {b["state"] for b in json.loads(status.stdout)["backends"]} == {"up"}
    chosen = cli(lab, "lb", "location", cluster, "/casa", "backend")
    assert chosen.returncode == 0, chosen.stderr
    assert "SCIM" in chosen.stderr, "the caveat is a note"
    assert chosen.stdout == "/casa -> backend\n"
    try:
        planned = cli(lab, "lb", "plan", cluster, "--json")
        assert planned.returncode == 0, planned.stderr
        steps = json.loads(planned.stdout)["hosts"]["proxy1.lab.test"]
        changing = [s for s in steps if s["outcome"] == "would change"]
        assert [s["title"] for s in changing] == ["configure the load balancer"]
        diffs = changing[0]["diffs"]
        assert [d["path"] for d in diffs] == [SITE], "only the site changes"
        assert "+        proxy_pass https://backend;\n" in diffs[0]["diff"]
    finally:
        back = cli(lab, "lb", "location", cluster, "/casa", "backend_id")
        assert back.returncode == 0, back.stderr
    assert cli(lab, "lb", "apply", cluster).returncode == 2, "no --yes, no terminal: refused"


async def test_an_imported_certificate_is_served_as_it_is(lab: Lab) -> None:
    cert, key = "/etc/ssl/lb-own.pem", "/etc/ssl/lb-own.key"
    await lab.sh(
        "proxy1",
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \\\n"
        '  -subj "/CN=own.example.org" -keyout "$2" -out "$1" 2>/dev/null; chmod 600 "$2"',
        cert,
        key,
    )
    chosen = cli(
        lab, "lb", "certificate", lab.config.cluster, "--cert-file", cert, "--key-file", key
    )
    assert chosen.returncode == 0, chosen.stderr
    try:
        report = await balance(lab)
        assert report["ok"], json.dumps(report, indent=1)
        served = ssl.get_server_certificate((lab.host("proxy1").address, 443))
        assert served.strip() == (await lab.sh("proxy1", f"cat {cert}")).strip()
    finally:
        assert cli(lab, "lb", "certificate", lab.config.cluster, "--ca").returncode == 0
    assert (await balance(lab))["ok"]
    assert only_unchanged(await balance(lab))


DISCOVERY = ("/.well-known/openid-configuration", "/oxauth/.well-known/openid-configuration")


async def test_discovery_through_the_balancer_names_one_issuer_and_answers_head(
    lab: Lab,
) -> None:
    seen: Counter[tuple[str, str]] = Counter()
    sizes = set()
    with client() as http:
        for path in DISCOVERY * 10:
            answer = http.get(proxy_url(lab, path))
            assert answer.status_code == 200, answer.text
            node = answer.headers[SERVED_BY].split(".", 1)[0]
            seen[(node, answer.json()["issuer"])] += 1
            sizes.add(len(answer.content))
        heads = [http.head(proxy_url(lab, path)) for path in DISCOVERY * 2]
    assert {node for node, _ in seen} == {"idp1", "idp2"}, seen
    assert {issuer for _, issuer in seen} == {"https://proxy1.lab.test"}, seen
    assert {h.headers[SERVED_BY].split(".", 1)[0] for h in heads} == {"idp1", "idp2"}
    for head in heads:
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["Content-Length"]) in sizes


async def issuer_of(lab: Lab, node: str) -> str:
    """The issuer the node's own discovery names (asked directly, not through NGINX)."""
    async with httpx.AsyncClient(verify=False, timeout=5) as http:
        answer = await http.get(f"https://{lab.host(node).address}{DISCOVERY[0]}")
    return str(answer.json()["issuer"])


async def install_with(lab: Lab, node: str, hostname: str) -> None:
    """Reinstall ``node``'s identity app with another Gluu hostname, and wait for it."""
    await lab.sh(
        node,
        'sed -i "s/--hostname [^ \\"]*/--hostname $2/" "$1" && service oxauth restart',
        gluu.OXAUTH_DEFAULTS,
        hostname,
    )
    await eventually(
        lambda: issuer_of(lab, node),
        until=lambda issuer: issuer == f"https://{hostname}",
        ignore=(httpx.HTTPError, ValueError),
        what=f"{node} serving the issuer https://{hostname}",
    )


async def test_status_warns_when_a_node_serves_another_issuer(lab: Lab) -> None:
    await install_with(lab, "idp2", "idp2.lab.test")
    try:
        manager = await Manager.open(lab.settings)
        try:
            report = await status(manager, lab.config.cluster)
        finally:
            await manager.close()
        result = report.as_dict()
        assert result["issuer"] == "https://proxy1.lab.test"
        issuers = {b["host"]: b["issuer"] for b in result["backends"]}
        assert issuers == {
            "idp1.lab.test": "https://proxy1.lab.test",
            "idp2.lab.test": "https://idp2.lab.test",
        }
        assert result["warnings"] == [
            "idp2.lab.test serves the issuer https://idp2.lab.test, not "
            "https://proxy1.lab.test (the cluster's public hostname): through the load "
            "balancer, discovery names 2 different issuers"
        ]
        assert report.ok, "a warning: the nodes still serve"
        shown = cli(lab, "lb", "status", lab.config.cluster)
        assert shown.returncode == 0, shown.stderr
        assert "warning idp2.lab.test serves the issuer https://idp2.lab.test" in (
            shown.stdout + shown.stderr
        )
    finally:
        await install_with(lab, "idp2", "proxy1.lab.test")
    manager = await Manager.open(lab.settings)
    try:
        assert (await status(manager, lab.config.cluster)).warnings == []
    finally:
        await manager.close()
