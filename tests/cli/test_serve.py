"""``clustermgr serve``: half a TLS pair refused, proxy headers trusted only when configured,
a warning for plain HTTP off loopback.  Real ``serve`` processes, stopped by their PID."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cli_runner import Cli
from clustermgr.audit import service as audit
from clustermgr.core.manager import Manager
from clustermgr.settings import Settings
from webfixture import ManagerProcess, client, free_port, sign_in

pytestmark = pytest.mark.integration

SPOOFED = "203.0.113.5"


@pytest.mark.parametrize("given", ["--tls-cert", "--tls-key"])
def test_half_a_tls_pair_is_refused(tmp_path: Path, given: str) -> None:
    ran = Cli(tmp_path / "data")("serve", "--port", str(free_port()), given, str(tmp_path / "x"))
    assert ran.code == 2, ran.stderr
    assert "--tls-cert and --tls-key go together" in ran.stderr


@contextmanager
def serving(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[ManagerProcess]:
    settings = Settings(data_dir=tmp_path / "data")
    log = tmp_path / "serve.log"
    server = ManagerProcess(settings, free_port(), log, args=args, env=env or {})
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def login_clients(server: ManagerProcess) -> list[str]:
    """Sign in once with a spoofed X-Forwarded-For; the client addresses the audit saw."""
    async with client(server.url) as http:
        http.headers["X-Forwarded-For"] = SPOOFED
        await sign_in(http, "nobody", "Wrong-password-123", expect_success=False)
    manager = await Manager.open(server.settings)
    try:
        entries = await audit.entries(manager)
    finally:
        await manager.close()
    return [str(e.detail["client"]) for e in entries if e.action == "login"]


async def test_forwarded_addresses_are_ignored_by_default(tmp_path: Path) -> None:
    with serving(tmp_path) as server:
        assert await login_clients(server) == ["127.0.0.1"]
        assert "serving plain HTTP" not in server.log()


async def test_a_configured_proxy_is_believed(tmp_path: Path) -> None:
    with serving(tmp_path, env={"CLUSTERMGR_TRUSTED_PROXIES": "127.0.0.1"}) as server:
        assert await login_clients(server) == [SPOOFED]


def test_plain_http_off_loopback_is_warned_about(tmp_path: Path) -> None:
    with serving(tmp_path, "--host", "0.0.0.0") as server:
        assert "serving plain HTTP on 0.0.0.0" in server.log()
