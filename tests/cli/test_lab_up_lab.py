"""``clustermgr lab up``: servers with sshd, registered, nothing of Gluu; the lab's apt
repository served until ``lab down``, its details printed; then the install from it,
by the CLI, as the README shows."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path

import pytest

from cli_runner import Cli
from clustermgr.lab import service
from clustermgr.lab.config import LabConfig
from clustermgr.lab.gluu.package import GLUU_VERSION
from labfixture import SLOT, tcp_open

pytestmark = pytest.mark.integration


async def test_up_bare_install_by_the_cli_then_down(tmp_path: Path) -> None:
    prefix, subnet = SLOT.spare()
    data_dir = tmp_path / "manager"
    config = LabConfig(
        state_dir=data_dir / "lab", prefix=prefix, subnet=subnet, identity_nodes=1, proxies=0
    )
    service.save_config(config)  # the lab `up` makes: this session's prefix and subnet
    cli = Cli(data_dir, verbose=False)
    try:
        up = await asyncio.to_thread(cli, "lab", "up", "--nodes", "1")
        assert up.code == 0, up.stderr
        assert "idp1.lab.test" in up.stdout
        saved = service.load_config(config.state_dir)
        assert saved.prefix == prefix
        assert f"{saved.apt_repo.url} (suite lab" in up.stderr, up.stderr
        assert str(saved.apt_repo.public_key) in up.stderr

        servers = await asyncio.to_thread(cli, "server", "list", "--json")
        assert "idp1.lab.test" in servers.stdout, servers.stdout
        script = "echo seen; ls /etc/rc2.d/S* /opt/gluu-server /etc/gluu 2>/dev/null; echo seen"
        nothing = await asyncio.to_thread(cli, "lab", "exec", "idp1", "--", "sh", "-c", script)
        assert nothing.stdout == "seen\nseen\n", "no service enabled, nothing of Gluu"
        assert not tcp_open(config.hosts()[0].address, 389)

        url = f"{saved.apt_repo.url}dists/{saved.apt_repo.suite}/InRelease"
        with urllib.request.urlopen(url, timeout=5) as answer:
            assert b"BEGIN PGP SIGNED MESSAGE" in answer.read()
        server = Path(f"/proc/{int((config.apt_dir / 'server.pid').read_text())}/cmdline")
        assert b"http.server" in server.read_bytes()

        # What the README says to install from the lab's repository, by the CLI.
        await asyncio.to_thread(cli, "cluster", "public-hostname", "lab", "idp.example.org")
        settings = await asyncio.to_thread(
            cli,
            *("install", "settings", "lab", "--organization", "Example Org", "--city", "Austin"),
            *("--state", "TX", "--country", "US", "--admin-email", "admin@example.org"),
            *("--version", GLUU_VERSION, "--repository-url", saved.apt_repo.url.rstrip("/")),
            *("--suite", "lab", "--component", "main"),
            *("--repository-key", str(saved.apt_repo.public_key)),
            *("--admin-password-env", "GLUU_ADMIN"),
            GLUU_ADMIN="a password of the test",
        )
        assert settings.code == 0, settings.stderr
        installed = await asyncio.to_thread(cli, "install", "apply", "lab", "--yes", "--json")
        assert installed.code == 0, installed.stderr
        assert installed.json()["ok"], installed.stdout
        assert tcp_open(config.hosts()[0].address, 443), "the web front serves"
    finally:
        down = await asyncio.to_thread(cli, "lab", "down", "--json")
    assert down.code == 0, down.stderr
    assert any("apt repository" in line for line in json.loads(down.stdout)["removed"])
    assert not server.exists() or not server.read_bytes(), "the server is gone"
