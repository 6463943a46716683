"""``clustermgr lab up``: servers with sshd, registered, nothing of Gluu; the lab's apt
repository served until ``lab down``, its details printed for the install."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path

import pytest

from cli_runner import Cli
from clustermgr.lab import service
from clustermgr.lab.config import LabConfig
from labfixture import SLOT, tcp_open

pytestmark = pytest.mark.integration


async def test_up_bare_then_down(tmp_path: Path) -> None:
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
    finally:
        down = await asyncio.to_thread(cli, "lab", "down", "--json")
    assert down.code == 0, down.stderr
    assert any("apt repository" in line for line in json.loads(down.stdout)["removed"])
    assert not server.exists() or not server.read_bytes(), "the server is gone"
