"""``clustermgr admin``: users and API tokens from the command line, in a subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_runner import Cli
from clustermgr.audit import service as audit
from clustermgr.auth import service as auth
from clustermgr.core.manager import Manager
from clustermgr.redact import Secret
from clustermgr.settings import Settings

pytestmark = pytest.mark.integration

PASSWORD = "Cli horse battery 7"


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "data", ADMIN_PW=PASSWORD)


async def open_manager(tmp_path: Path) -> Manager:
    return await Manager.open(Settings(data_dir=tmp_path / "data"))


async def test_create_list_token_revoke(cli: Cli, tmp_path: Path) -> None:
    ran = cli("admin", "create", "Alice", "--password-env", "ADMIN_PW")
    assert ran.code == 0, ran.stderr
    assert ran.stdout == "created user alice (viewer)\n"

    ran = cli("admin", "list")
    assert ran.code == 0, ran.stderr
    head, alice = ran.stdout.splitlines()
    assert head.split() == ["USER", "ROLE", "SIGN-IN", "CREATED", "(UTC)"]
    assert alice.split()[:4] == ["alice", "viewer", "password", "only"]

    ran = cli("admin", "list", "--json")
    assert ran.code == 0, ran.stderr
    (user,) = ran.json()
    assert (user["username"], user["totp_enabled"]) == ("alice", False)

    ran = cli("admin", "token", "alice", "--name", "ci")
    assert ran.code == 0, ran.stderr
    token = ran.stdout.strip()
    assert token.startswith("cm_") and "\n" not in token
    assert "not shown again" in ran.stderr

    ran = cli("admin", "token", "alice", "--name", "deploy", "--json")
    assert ran.code == 0, ran.stderr
    second = ran.json()["token"]

    manager = await open_manager(tmp_path)
    try:
        found = await auth.user_for_token(manager, token)
        assert found is not None and found.username == "alice"
        assert await auth.user_for_token(manager, second) is not None
        entries = await audit.entries(manager)
    finally:
        await manager.close()
    assert all(e.actor.startswith("cli:") for e in entries)
    assert [e.action for e in entries] == ["token.create", "token.create", "user.create"]

    ran = cli("admin", "revoke-token", "alice", "--name", "ci")
    assert ran.code == 0, ran.stderr
    ran = cli("admin", "revoke-token", "alice", "--name", "ci", "--json")
    assert ran.code == 1
    assert ran.json()["error"] == "not_found"
    assert all(PASSWORD not in text for text in cli.transcript)


async def test_roles_and_token_expiry(cli: Cli, tmp_path: Path) -> None:
    ran = cli("admin", "create", "bob", "--password-env", "ADMIN_PW", "--role", "operator")
    assert ran.code == 0 and "created user bob (operator)" in ran.stdout, ran.stderr
    ran = cli("admin", "token", "bob", "--name", "high", "--role", "admin")
    assert ran.code == 1 and "at most what a operator can" in ran.stderr, ran.stderr
    ran = cli("admin", "token", "bob", "--name", "ro", "--role", "viewer", "--days", "3", "--json")
    assert ran.code == 0, ran.stderr
    issued = ran.json()
    assert issued["role"] == "viewer" and issued["expires_at"]
    ran = cli("admin", "role", "bob", "admin")
    assert ran.code == 0 and ran.stdout == "bob is now admin\n"
    ran = cli("admin", "create", "eve", "--password-env", "ADMIN_PW", "--role", "root")
    assert ran.code == 2 and "unknown role 'root'" in ran.stderr
    manager = await open_manager(tmp_path)
    try:
        found = await auth.user_for_token(manager, issued["token"])
    finally:
        await manager.close()
    assert found is not None and found.role is auth.UserRole.VIEWER


def test_password_is_required_without_a_terminal(cli: Cli) -> None:
    ran = cli("admin", "create", "bob", "--json")
    assert ran.code == 2
    assert ran.json()["error"] == "invalid_input"
    ran = cli("admin", "create", "bob", "--password-env", "UNSET_VARIABLE")
    assert ran.code == 2
    assert "UNSET_VARIABLE is not set" in ran.stderr
    ran = cli("admin", "create", "bob", "--password-env", "WEAK", WEAK="weak")
    assert ran.code == 2
    assert "too short" in ran.stderr
    assert cli("admin", "list", "--json").json() == []


async def test_password_change(cli: Cli, tmp_path: Path) -> None:
    assert cli("admin", "create", "carol", "--password-env", "ADMIN_PW").code == 0
    ran = cli("admin", "password", "carol", "--password-env", "NEW", NEW="New battery horse 8")
    assert ran.code == 0, ran.stderr
    manager = await open_manager(tmp_path)
    try:
        user = await auth.authenticate(
            manager, "carol", Secret("New battery horse 8"), totp_code=None, client="cli-test"
        )
    finally:
        await manager.close()
    assert user.username == "carol"
    ran = cli("admin", "password", "nobody", "--password-env", "NEW", NEW="New battery horse 8")
    assert ran.code == 1 and "no user named 'nobody'" in ran.stderr
