"""The lab's ``gluu-server`` package on bare lab hosts: from the signed repository and
from the file, set up from ``setup.properties``, set up again, refused with a wrong
key, purged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from clustermgr.lab.config import AptRepo
from clustermgr.lab.gluu import directory as gluu
from clustermgr.lab.gluu import node
from clustermgr.lab.gluu.package import GLUU_VERSION, PACKAGE_NAME
from clustermgr.lab.gluu.setup.properties import format_properties
from clustermgr.remote.command import Command
from clustermgr.remote.result import Result
from gluuhttp import https
from gluupackage import ADMIN_PASSWORD, ISSUER, LDAP_PASSWORD, PROPERTIES
from labfixture import SLOT, Lab, running_lab, tcp_open

pytestmark = pytest.mark.integration

KEYRING = "/etc/apt/keyrings/gluu-lab.asc"
SOURCES = "/etc/apt/sources.list.d/gluu-lab.list"
#: apt reads and refreshes the lab's source only: lab hosts reach no other repository.
ONLY_LAB = (
    f"-o Dir::Etc::sourcelist={SOURCES} -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0"
)
APT = "DEBIAN_FRONTEND=noninteractive apt-get -q -y"
ADMIN_DN = f"inum={gluu.ADMIN_INUM},ou=people,o=gluu"
PIDS = "cat /run/slapd/slapd.pid /run/oxauth.pid /run/nginx.pid"


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    prefix, subnet = SLOT.spare()
    base = tmp_path_factory.mktemp("package-lab")
    async with running_lab(
        base, prefix=prefix, subnet=subnet, identity_nodes=2, proxies=0, gluu=False
    ) as running:
        yield running


async def run(lab: Lab, host: str, script: str, *args: str, stdin: bytes | None = None) -> Result:
    async with lab.access() as access:
        conn = await access.connection(lab.host(host).fqdn)
        return await conn.run(Command.script(script, *args, stdin=stdin), timeout=180)


async def put(lab: Lab, host: str, path: str, data: bytes, mode: int = 0o644) -> None:
    async with lab.access() as access:
        conn = await access.connection(lab.host(host).fqdn)
        await run(lab, host, 'mkdir -p "$(dirname "$1")"', path)
        await conn.put(path, data, mode=mode)


async def add_source(lab: Lab, host: str, key: bytes) -> Result:
    """The lab's repository as a host's only source, signed by ``key``; apt's update."""
    repo: AptRepo = lab.config.apt_repo
    await put(lab, host, KEYRING, key)
    await put(lab, host, SOURCES, (repo.sources_line(KEYRING) + "\n").encode())
    return await run(lab, host, f"apt-get -q {ONLY_LAB} update")


async def set_up(lab: Lab, host: str, path: str = node.SETUP_PROPERTIES, **changes: str) -> Result:
    text = format_properties({**PROPERTIES, **changes})
    await put(lab, host, path, text.encode(), mode=0o600)
    return await run(lab, host, '"$1" "$2"', node.SETUP_PROGRAM, path)


async def test_bare_hosts_have_sshd_and_nothing_of_gluu(lab: Lab) -> None:
    for host in ("idp1", "idp2"):
        found = await run(lab, host, f"ls -d {node.INSTALL_DIR} {node.GLUU_ETC} {node.DB_DIR}")
        assert found.stdout == "", found.stdout
        running = await lab.sh(host, "ls /etc/rc2.d/S* 2>/dev/null || true")
        assert [name.rsplit("/", 1)[1][3:] for name in running.split()] in ([], ["ssh"])
        assert not tcp_open(lab.host(host).address, 443)
        assert not tcp_open(lab.host(host).address, 389)


async def test_install_from_the_repository_and_set_up(lab: Lab) -> None:
    repo = lab.config.apt_repo
    update = await add_source(lab, "idp1", repo.public_key.read_bytes())
    assert update.ok, update.stderr
    install = await run(lab, "idp1", f"{APT} install {PACKAGE_NAME}")
    assert install.ok, install.stdout + install.stderr
    version = await lab.sh("idp1", "dpkg-query -W -f='${Version}' gluu-server")
    assert version == GLUU_VERSION

    setup = await set_up(lab, "idp1")
    assert setup.ok, setup.stderr
    assert "loaded o=gluu" in setup.stdout and "started oxauth" in setup.stdout
    assert LDAP_PASSWORD not in setup.stdout + setup.stderr

    # slapd answers with o=gluu, bound as the directory manager with the password
    entry = await run(
        lab,
        "idp1",
        'ldapsearch -x -LLL -H ldap://localhost -D "$1" -y /dev/stdin -b o=gluu -s base o',
        gluu.ROOT_DN,
        stdin=LDAP_PASSWORD.encode(),
    )
    assert entry.ok and "dn: o=gluu" in entry.stdout, entry.stderr
    admin = await run(
        lab,
        "idp1",
        'ldapwhoami -x -H ldap://localhost -D "$1" -y /dev/stdin',
        ADMIN_DN,
        stdin=ADMIN_PASSWORD.encode(),
    )
    assert admin.ok, admin.stderr
    # https on 443: the health check, and discovery naming the hostname as the issuer
    status, health = await https(lab, "idp1", "/oxauth/restv1/health-check")
    assert (status, health) == (200, {"status": "running", "db_status": "online"})
    status, discovery = await https(lab, "idp1", "/.well-known/openid-configuration")
    assert status == 200 and discovery["issuer"] == f"https://{ISSUER}"
    cert = await lab.sh("idp1", f"openssl x509 -noout -subject -in {gluu.HTTPD_CERT}")
    assert ISSUER in cert
    # every service enabled: a reboot brings the node back
    enabled = await lab.sh("idp1", "ls /etc/rc2.d")
    assert {"slapd", "oxauth", "nginx"} <= {name[3:] for name in enabled.split()}
    applied = await lab.sh("idp1", f"stat -c %a {node.APPLIED_PROPERTIES}")
    assert applied.strip() == "600"
    log = await lab.sh("idp1", f"cat {node.SETUP_LOG}")
    assert "loaded o=gluu" in log and LDAP_PASSWORD not in log and ADMIN_PASSWORD not in log

    # a second run with the same properties changes nothing
    before = await lab.sh("idp1", PIDS)
    again = await set_up(lab, "idp1")
    assert again.ok, again.stderr
    assert again.stdout.strip().endswith("nothing to change"), again.stdout
    assert await lab.sh("idp1", PIDS) == before


async def test_new_passwords_are_applied_to_a_set_up_node(lab: Lab) -> None:
    new_ldap, new_admin = "n3w \\ 'dir' pw", 'n3w "admin" pw'
    changed = await set_up(lab, "idp1", ldapPass=new_ldap, oxtrust_admin_password=new_admin)
    assert changed.ok, changed.stderr
    assert "set the directory manager's password" in changed.stdout
    assert "set the admin user's password" in changed.stdout
    assert "restarted oxauth" in changed.stdout, "ox-ldap.properties names the new password"
    for dn, password in ((gluu.ROOT_DN, new_ldap), (ADMIN_DN, new_admin)):
        bound = await run(
            lab,
            "idp1",
            'ldapwhoami -x -H ldap://localhost -D "$1" -y /dev/stdin',
            dn,
            stdin=password.encode(),
        )
        assert bound.ok, bound.stderr
    status, health = await https(lab, "idp1", "/oxauth/restv1/health-check")
    assert (status, health) == (200, {"status": "running", "db_status": "online"})
    back = await set_up(lab, "idp1")
    assert back.ok and "set the directory manager's password" in back.stdout, back.stderr


async def test_a_read_only_disk_fails_clearly_then_setup_completes(lab: Lab) -> None:
    conf = "/etc/gluu/conf"
    await lab.sh("idp1", 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1"', conf)
    try:
        failed = await set_up(lab, "idp1", "/root/setup.properties", ldapPass="an0ther pw")
    finally:
        await lab.sh("idp1", 'umount "$1"', conf)
    assert failed.exit_status == 1, failed.stdout + failed.stderr
    reason = f"cannot write {gluu.OX_LDAP_PROPERTIES}: Read-only file system"
    assert reason in failed.stderr and node.SETUP_LOG in failed.stderr, failed.stderr
    assert "Traceback" not in failed.stderr and "an0ther" not in failed.stderr
    done = await set_up(lab, "idp1", "/root/setup.properties", ldapPass="an0ther pw")
    assert done.ok, done.stderr
    assert f"wrote {gluu.OX_LDAP_PROPERTIES}" in done.stdout
    back = await set_up(lab, "idp1")
    assert back.ok, back.stderr


async def test_a_wrong_repository_key_is_refused(lab: Lab) -> None:
    other = await run(
        lab,
        "idp2",
        "h=$(mktemp -d); gpg -q --homedir $h --batch --pinentry-mode loopback --passphrase ''"
        " --quick-gen-key 'someone else <x@example.org>' ed25519 sign never 2>/dev/null"
        " && gpg -q --homedir $h --armor --export; gpgconf --homedir $h --kill gpg-agent;"
        " rm -rf $h",
    )
    assert other.ok and "PUBLIC KEY" in other.stdout, other.stderr
    update = await add_source(lab, "idp2", other.stdout.encode())
    assert update.exit_status == 100, update.stdout + update.stderr
    assert "NO_PUBKEY" in update.stderr and "is not signed" in update.stderr, update.stderr
    policy = await lab.sh("idp2", f"apt-cache {ONLY_LAB} policy {PACKAGE_NAME}")
    assert "Candidate: (none)" in policy or not policy.strip(), policy


async def test_offline_file_install_completes_a_failed_setup_then_purges(lab: Lab) -> None:
    deb = lab.config.apt_repo.deb
    await put(lab, "idp2", f"/root/{deb.name}", deb.read_bytes())
    install = await run(lab, "idp2", f"cd /root && {APT} install ./{deb.name}")
    assert install.ok, install.stdout + install.stderr

    # The first node's web certificate, as a cluster's later nodes get it: kept.
    for path, mode in ((gluu.HTTPD_CERT, 0o644), (gluu.HTTPD_KEY, 0o600)):
        await put(lab, "idp2", path, (await lab.sh("idp1", f"cat {path}")).encode(), mode)

    # Port 443 taken: setup stops at the web front with the reason, then completes.
    blocker = await lab.sh(
        "idp2",
        'python3 -c \'import socket,time; s=socket.socket(); s.bind(("0.0.0.0", 443));'
        " s.listen(); time.sleep(600)' >/dev/null 2>&1 & echo $!",
    )
    failed = await set_up(lab, "idp2")
    await lab.sh("idp2", 'kill "$1"', blocker.strip())
    assert failed.exit_status == 1, failed.stdout + failed.stderr
    assert "nginx" in failed.stderr and node.SETUP_LOG in failed.stderr, failed.stderr
    done = await set_up(lab, "idp2")
    assert done.ok, done.stderr
    assert "loaded o=gluu" not in done.stdout, "the directory was done the first time"
    assert "started nginx" in done.stdout
    assert "changed: started slapd" in failed.stdout, "what was done before the failure"
    assert "created the web certificate" not in failed.stdout + done.stdout
    status, _ = await https(lab, "idp2", "/oxauth/restv1/health-check")
    assert status == 200
    served = await lab.sh(
        "idp2", "openssl s_client -connect 127.0.0.1:443 </dev/null 2>/dev/null | openssl x509"
    )
    assert served == await lab.sh("idp1", f"openssl x509 -in {gluu.HTTPD_CERT}")

    purge = await run(lab, "idp2", f"{APT} purge {PACKAGE_NAME}")
    assert purge.ok, purge.stdout + purge.stderr
    state = await lab.sh(
        "idp2", f"dpkg-query -W -f='${{db:Status-Status}}' {PACKAGE_NAME} 2>/dev/null || true"
    )
    assert state in ("", "not-installed")
    paths = [node.DB_DIR, node.GLUU_ETC, node.CERTS_DIR, node.INSTALL_DIR, "/etc/init.d/oxauth"]
    found = await run(lab, "idp2", 'ls -d "$@"', *paths)
    assert found.stdout == "", found.stdout
    running = await lab.sh("idp2", "ls /etc/rc2.d/S* 2>/dev/null || true")
    assert [name.rsplit("/", 1)[1][3:] for name in running.split()] in ([], ["ssh"])
    assert not tcp_open(lab.host("idp2").address, 443)
    assert not tcp_open(lab.host("idp2").address, 389)
    # Debian's slapd configuration and nginx's default site are back, as on this machine
    restored = await run(lab, "idp2", 'grep -rl "o=gluu" "$1" "$1.debian"', node.SLAPD_DIR)
    assert restored.stdout == "", restored.stdout
    defaults = await lab.sh("idp2", f"cat {node.SLAPD_DEFAULTS_FILE}")
    assert defaults == Path(node.SLAPD_DEFAULTS_FILE).read_text()
    site = await lab.sh("idp2", f"readlink {node.NGINX_DEFAULT_SITE}")
    assert site.strip().endswith("sites-available/default")
