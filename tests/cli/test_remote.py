"""``clustermgr remote``: where the API token comes from (never the command line)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cli_runner import Cli

TOKEN = "cm_test_token_4f2a9c"


class FakeManager(ThreadingHTTPServer):
    """Answers ``GET /api/v1/jobs`` with no jobs and remembers each Authorization header."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.authorizations: list[str | None] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeManager

    def do_GET(self) -> None:
        self.server.authorizations.append(self.headers.get("Authorization"))
        body = json.dumps({"items": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_manager() -> Iterator[FakeManager]:
    server = FakeManager()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path / "data")
    cli.env.pop("CLUSTERMGR_TOKEN", None)
    return cli


def test_token_on_the_command_line_is_refused(cli: Cli, fake_manager: FakeManager) -> None:
    ran = cli("remote", "jobs", "--url", fake_manager.url, "--token", TOKEN)
    assert ran.code == 2
    assert "--token is not accepted" in ran.stderr and "(ps)" in ran.stderr
    assert "CLUSTERMGR_TOKEN" in ran.stderr and "--token-file" in ran.stderr
    assert TOKEN not in ran.stderr
    assert fake_manager.authorizations == [], "nothing was sent"


def test_token_from_a_file_or_the_environment(
    cli: Cli, fake_manager: FakeManager, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(f"{TOKEN}\n")
    token_file.chmod(0o600)
    from_file = cli("remote", "jobs", "--url", fake_manager.url, "--token-file", str(token_file))
    assert from_file.code == 0, from_file.stderr
    from_env = cli("remote", "jobs", "--url", fake_manager.url, CLUSTERMGR_TOKEN=TOKEN)
    assert from_env.code == 0, from_env.stderr
    assert fake_manager.authorizations == [f"Bearer {TOKEN}", f"Bearer {TOKEN}"]


def test_a_missing_or_empty_token_file_is_a_clear_error(
    cli: Cli, fake_manager: FakeManager, tmp_path: Path
) -> None:
    missing = cli("remote", "jobs", "--url", fake_manager.url, "--token-file", str(tmp_path / "x"))
    assert missing.code == 2
    assert f"cannot read the token file {tmp_path / 'x'}: No such file or directory" in (
        missing.stderr
    )
    (tmp_path / "empty").write_text("\n")
    empty = cli(
        "remote", "jobs", "--url", fake_manager.url, "--token-file", str(tmp_path / "empty")
    )
    assert empty.code == 2 and "is empty" in empty.stderr
    nothing = cli("remote", "jobs", "--url", fake_manager.url)
    assert nothing.code == 1 and "an API token are needed" in nothing.stderr
    assert fake_manager.authorizations == []
