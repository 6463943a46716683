"""A plan page in a real browser with the three kinds of diffs plans show.

A dry run on local files (a sensitive file whose held secret changes, a renewed
certificate next to a private key) and on directory entries (the LDAP plan's
server ids and agreements) is recorded as a finished plan job of cluster
``lab`` in the live server's database; the browser opens its page.  The screenshot goes to
``test-artifacts/screenshots/plan-diffs.png`` for a person to look at.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from playwright.async_api import Browser, async_playwright, expect

from clustermgr.components.ldap import render
from clustermgr.components.ldap.model import Member
from clustermgr.components.ldap.model import ReplicationSettings as Settings
from clustermgr.core.manager import Manager
from clustermgr.jobs import store as jobs
from clustermgr.jobs.models import JobState
from clustermgr.pki.ca import Ca, new_key_pem, self_signed
from clustermgr.pki.sign import sign_csr
from clustermgr.plan.entries import Known, changes
from clustermgr.plan.executor import Executor
from clustermgr.plan.model import ApplyReport, FileChange, Plan, Step
from clustermgr.redact import MASK, Secret
from clustermgr.remote.command import Command
from clustermgr.remote.connection import Connection
from clustermgr.remote.local import LocalConnection
from webfixture import ManagerProcess, WebUser

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DB = "olcDatabase={1}mdb,cn=config"


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            await launched.close()


def node_certificate(ca_name: str, key: ec.EllipticCurvePrivateKey) -> bytes:
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cache1.lab.test")]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("cache1.lab.test")]), False)
        .sign(key, hashes.SHA256())
    )
    ca_key = new_key_pem()
    ca = Ca(self_signed(ca_key, ca_name), ca_key)
    pem = csr.public_bytes(serialization.Encoding.PEM)
    return sign_csr(ca, pem, hostname="cache1.lab.test").encode()


async def dry_run(folder: Path, old_pw: Secret, new_pw: Secret) -> ApplyReport:
    """The three kinds of diffs, from a real executor's dry run."""
    conf, cert, key_file = folder / "redis.conf", folder / "node.pem", folder / "node.key"
    conf.write_text(f"port 6379\nrequirepass {old_pw.reveal()}\nmaxmemory-policy lru\n")
    key = ec.generate_private_key(ec.SECP256R1())
    cert.write_bytes(node_certificate("Old Cluster CA", key))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    new_conf = f"port 6379\nrequirepass {new_pw.reveal()}\nmaxmemory-policy volatile-lru\n"
    peers = [Member("idp2.lab.test", 2)]
    known: Known = {
        "cn=config": {"olcserverid": ["1 ldap://idp1.lab.test/"]},
        DB.lower(): {"olcsyncrepl": [], "olcmultiprovider": []},
    }
    ldap_ids = render.server_ids([Member("idp1.lab.test", 1), *peers])
    agreements = render.agreements(DB, peers, new_pw, Settings())
    steps = (
        Step(
            "cache1.lab.test",
            "run Redis on localhost with a password",
            "the node's share of the cache",
            files=(FileChange(str(conf), new_conf.encode(), sensitive=True, secrets=(new_pw,)),),
        ),
        Step(
            "cache1.lab.test",
            "run stunnel for the cache",
            "each peer verified against the cluster CA",
            files=(
                FileChange(str(cert), node_certificate("New Cluster CA", key)),
                FileChange(str(key_file), key_pem),
            ),
        ),
        Step(
            "idp1.lab.test",
            "set the server IDs",
            "1 idp1.lab.test, 2 idp2.lab.test",
            commands=(Command.of("true"),),
            entries=changes(ldap_ids, known),
        ),
        Step(
            "idp1.lab.test",
            "set the replication agreements",
            "multi-provider with idp2.lab.test",
            commands=(Command.of("true"),),
            entries=changes(agreements, known),
        ),
    )

    async def connect(host: str) -> Connection:
        return LocalConnection(host)

    return await Executor(connect, backup_root=str(folder / "bk")).apply(
        Plan("cluster lab", steps), dry_run=True
    )


async def test_plan_page_shows_masked_certificate_and_entry_diffs(
    browser: Browser,
    live_process: ManagerProcess,
    web_admin: WebUser,
    tmp_path: Path,
) -> None:
    old_pw = Secret.held(secrets.token_urlsafe(18), label="old")
    new_pw = Secret.held(secrets.token_urlsafe(18), label="new")
    report = await dry_run(tmp_path, old_pw, new_pw)
    manager = await Manager.open(live_process.settings)
    try:
        job = await jobs.create(
            manager,
            kind="plan",
            cluster="lab",
            mutating=False,
            user=web_admin.username,
            params={},
            runner="test",
        )
        assert await jobs.claim(manager, job.id)
        await jobs.finish(manager, job.id, JobState.SUCCEEDED, result=report.as_dict())
    finally:
        await manager.close()

    context = await browser.new_context(
        base_url=live_process.url, viewport={"width": 1366, "height": 800}
    )
    page = await context.new_page()
    try:
        await page.goto(f"/login?next=/jobs/{job.id}")
        await page.get_by_label("User name").fill(web_admin.username)
        await page.get_by_label("Password").fill(web_admin.password)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.locator("pre.diff").first).to_be_visible()
        diffs = page.locator("pre.diff")
        await expect(diffs.filter(has_text=f"+requirepass {MASK}")).to_have_count(1)
        await expect(diffs.filter(has_text="+issuer: CN=New Cluster CA")).to_have_count(1)
        await expect(diffs.filter(has_text="holds a private key, not shown")).to_have_count(1)
        await expect(diffs.filter(has_text="+olcServerID: 2 ldap://idp2.lab.test/")).to_have_count(
            1
        )
        await expect(diffs.filter(has_text=f"credentials={MASK}")).to_have_count(1)
        text = await page.locator("main").inner_text()
        for value in (old_pw.reveal(), new_pw.reveal(), "PRIVATE KEY"):
            assert value not in text
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "plan-diffs.png"), full_page=True)
    finally:
        await context.close()
