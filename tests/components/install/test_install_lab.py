"""The install on a bare lab of its own (2 identity nodes and a proxy): from the lab's
signed repository, then every later stage of the deploy, then a login through the load
balancer; a wrong key refused; a setup that fails and completes on re-apply; removing
a node's Gluu Server and installing it again; the package file (offline)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from clustermgr.components.contract import deploy_stages
from clustermgr.components.install import apply as install
from clustermgr.components.install import store as install_store
from clustermgr.components.install.lab import lab_settings
from clustermgr.components.registry import COMPONENTS
from clustermgr.core.manager import Manager
from clustermgr.jobs.deploy import apply_stages
from clustermgr.jobs.kinds import JobContext, NoParams
from clustermgr.lab.gluu.package import GLUU_VERSION
from clustermgr.plan.events import ignore
from clustermgr.plan.model import ApplyReport, Outcome
from clustermgr.redact import Secret
from clustermgr.remote.command import Command
from clustermgr.validation import EXAMPLE_KEY
from labfixture import SLOT, Lab, running_lab

pytestmark = pytest.mark.integration

#: The Gluu admin's password: quotes, blanks, a backslash, shell characters.
PASSWORD = "adm 'in' \"pw\" \\ $HOME `id` =#!"
NODES = ("idp1", "idp2")
#: Run on the proxy: a login through the load balancer (the password on stdin) and the
#: issuer its discovery names, as JSON.
THROUGH_PROXY = """\
import json, ssl, sys, urllib.request
context = ssl._create_unverified_context()
def call(path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request("https://127.0.0.1" + path, data=data,
        headers={"Host": sys.argv[1], "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None
status, _ = call("/oxauth/restv1/login", {"username": "admin", "password": sys.stdin.read()})
_, discovery = call("/.well-known/openid-configuration")
print(json.dumps({"login": status, "issuer": discovery["issuer"]}))
"""


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    prefix, subnet = SLOT.spare()
    base = tmp_path_factory.mktemp("install-lab")
    async with running_lab(base, prefix=prefix, subnet=subnet, identity_nodes=2, gluu=False) as up:
        yield up


@pytest.fixture
async def manager(lab: Lab) -> AsyncIterator[Manager]:
    opened = await Manager.open(lab.settings)
    try:
        yield opened
    finally:
        await opened.close()


async def configure(manager: Manager, lab: Lab, **changes: object) -> None:
    await install_store.change(
        manager,
        lab.config.cluster,
        lab_settings(lab.config.apt_repo, **changes),
        admin_password=Secret(PASSWORD, label="test"),
        actor="tester",
    )


async def apply(manager: Manager, lab: Lab) -> ApplyReport:
    return await install.apply(manager, lab.config.cluster, dry_run=False, actor="tester")


def outcomes(report: ApplyReport, host: str) -> list[tuple[str, Outcome]]:
    return [(r.title, r.outcome) for r in report.results.get(host, [])]


async def installed(lab: Lab, host: str) -> str:
    return await lab.sh(
        host, "dpkg-query -W -f='${Version} ${db:Status-Status}' gluu-server || true"
    )


async def test_without_install_settings_a_bare_node_says_what_is_missing(
    manager: Manager, lab: Lab
) -> None:
    plan = await install.apply(manager, lab.config.cluster, dry_run=True)
    assert not plan.ok and sorted(plan.results) == sorted(lab.host(n).fqdn for n in NODES)
    for rows in plan.results.values():
        (row,) = rows
        assert row.outcome is Outcome.FAILED and row.reason == install.NOT_INSTALLED


async def test_a_wrong_repository_key_is_refused_and_nothing_is_installed(
    manager: Manager, lab: Lab
) -> None:
    await configure(manager, lab, repository_key=EXAMPLE_KEY)
    report = await apply(manager, lab)
    first, second = (lab.host(n).fqdn for n in NODES)
    failed = next(r for r in report.results[first] if r.outcome is Outcome.FAILED)
    assert failed.title == f"install gluu-server {GLUU_VERSION}"
    assert "NO_PUBKEY" in failed.stderr_tail or "not signed" in failed.stderr_tail
    assert [o for _, o in outcomes(report, second)] == [Outcome.SKIPPED]
    assert await installed(lab, "idp1") == "" and await installed(lab, "idp2") == ""


async def test_install_from_the_repository_then_again_all_unchanged(
    manager: Manager, lab: Lab
) -> None:
    await configure(manager, lab)
    plan = await install.apply(manager, lab.config.cluster, dry_run=True)
    assert plan.ok and plan.count(Outcome.WOULD_CHANGE) > 0
    report = await apply(manager, lab)
    assert report.ok, [(r.host, r.title, r.reason, r.stderr_tail) for r in report.all()]
    for name in NODES:
        assert await installed(lab, name) == f"{GLUU_VERSION} installed"
    certs = {await lab.sh(n, "cat /etc/certs/httpd.crt") for n in NODES}
    assert len(certs) == 1, "every node serves the first node's certificate"
    subject = await lab.sh("idp2", "openssl x509 -noout -subject -in /etc/certs/httpd.crt")
    assert subject.strip() == (
        "subject=C = US, ST = TX, L = Austin, O = Example Org,"
        f" emailAddress = admin@example.org, CN = {lab.config.public_hostname}"
    ), "the certificate names the organization of the install settings"
    again = await apply(manager, lab)
    assert again.ok and again.count(Outcome.UNCHANGED) == len(list(again.all()))


async def test_the_whole_deploy_then_a_login_through_the_load_balancer(
    manager: Manager, lab: Lab
) -> None:
    ctx = JobContext(manager, lab.config.cluster, NoParams(), ignore, lambda: False, actor="t")
    done = await apply_stages(ctx, deploy_stages(COMPONENTS), None)
    assert done.ok, [(s.name, s.note) for s in done.stages]
    hostname = lab.host("proxy1").fqdn
    async with lab.access() as access:
        conn = await access.connection(hostname)
        command = Command.of("python3", "-c", THROUGH_PROXY, hostname, stdin=Secret(PASSWORD))
        answer = json.loads((await conn.run(command)).check().stdout)
    assert answer == {"login": 200, "issuer": f"https://{hostname}"}
    again = await apply_stages(ctx, deploy_stages(COMPONENTS), None)
    assert again.ok and again.count(Outcome.CHANGED) == 0, "a second deploy changes nothing"


async def test_a_failed_setup_says_why_and_a_second_apply_completes_it(
    manager: Manager, lab: Lab
) -> None:
    """Setup cannot keep the properties it applied (that file made read-only): its step
    fails with the setup log's tail; once writable again, the next apply completes."""
    kept = "/etc/gluu/conf/setup.properties.applied"
    await lab.sh("idp2", 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1"', kept)
    try:
        await configure(manager, lab, city="Dallas")
        report = await apply(manager, lab)
    finally:
        await lab.sh("idp2", 'umount "$1"', kept)
    second = lab.host("idp2").fqdn
    failed = [r for r in report.results[second] if r.outcome is Outcome.FAILED]
    assert [r.title for r in failed] == ["run the Gluu Server setup"], outcomes(report, second)
    # The setup log's last lines, which end with why.
    assert f"failed: cannot write {kept}" in failed[0].stderr_tail
    assert report.results[lab.host("idp1").fqdn][-1].outcome is Outcome.CHANGED
    fixed = await apply(manager, lab)
    assert fixed.ok, outcomes(fixed, second)
    assert "city=Dallas" in await lab.sh("idp2", f"cat {kept}")


async def test_remove_then_install_again_from_the_package_file(manager: Manager, lab: Lab) -> None:
    cert = await lab.sh("idp2", "cat /etc/certs/httpd.crt")
    removed = await install.remove(manager, lab.config.cluster, lab.host("idp2").fqdn)
    assert removed.ok and await installed(lab, "idp2") == ""
    assert await lab.sh("idp2", "ls /etc/gluu /var/lib/ldap/gluu 2>/dev/null || true") == ""
    package = lab.config.apt_repo.deb.read_bytes()
    digest = install_store.keep_package(manager, package)
    await configure(manager, lab, source="offline", package_sha256=digest, city="Dallas")
    report = await apply(manager, lab)
    assert report.ok, outcomes(report, lab.host("idp2").fqdn)
    assert await installed(lab, "idp2") == f"{GLUU_VERSION} installed"
    assert await lab.sh("idp2", "cat /etc/certs/httpd.crt") == cert, "the shared one again"
    idp1 = outcomes(report, lab.host("idp1").fqdn)
    assert [t for t, o in idp1 if o is Outcome.CHANGED] == ["copy the Gluu Server package file"]
