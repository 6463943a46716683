"""The web app for tests: in process (httpx over ASGI) or as a real ``clustermgr serve``.

Shared by the API, security, restart and browser tests (fixtures in
``webfixtures``).  Everything here talks to the real app with a real
SQLite file: no mocks.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from clustermgr.auth import service as auth
from clustermgr.core.manager import Manager
from clustermgr.redact import Secret
from clustermgr.settings import Settings
from clustermgr.web.app import create_app
from clustermgr.web.security import CSRF_FIELD, LOGIN_CSRF_COOKIE, SESSION_COOKIE
from polling import eventually

ADMIN_USERNAME = "admin"
#: Meets the strength rule (12+ characters, 2+ classes, not containing the name).
ADMIN_PASSWORD = "Correct-Horse-Battery-42"
#: A host the app answers to (its Host allow-list always holds localhost).
ASGI_BASE_URL = "http://localhost"
#: Jobs in tests end well within this many seconds (lab connect timeout: 5 s).
JOB_DEADLINE = 180.0
#: Routes (as declared) whose answer never ends by itself: a live tail.  A client over
#: the app in process (``client(app=...)``) waits for an answer's end, so the tests that
#: walk every route leave these out; their own tests read them from a served app.
ENDLESS_STREAMS = frozenset({"/api/v1/clusters/{name}/logs/tail", "/clusters/{name}/logs/tail"})

_HIDDEN_CSRF = re.compile(
    r'name="' + CSRF_FIELD + r'"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="' + CSRF_FIELD + '"'
)


@dataclass(frozen=True)
class WebUser:
    """A user of the manager with a known password and an API token."""

    username: str
    password: str
    token: str

    @property
    def auth_header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def create_user(
    settings: Settings,
    username: str = ADMIN_USERNAME,
    password: str = ADMIN_PASSWORD,
    *,
    role: auth.UserRole = auth.UserRole.ADMIN,
) -> WebUser:
    """Create a user with ``role`` and an API token for it in the database of ``settings``."""
    manager = await Manager.open(settings)
    try:
        await auth.create_user(manager, username, Secret(password, label="password"), role=role)
        token = await auth.create_api_token(manager, username, "tests")
    finally:
        await manager.close()
    return WebUser(username, password, token)


@dataclass(frozen=True)
class FreshWeb:
    """An app on an empty data dir of its own, and its admin."""

    app: FastAPI
    settings: Settings
    admin: WebUser


@asynccontextmanager
async def running_app(
    settings: Settings, *, secure_cookies: bool = False
) -> AsyncIterator[FastAPI]:
    """The real app with its lifespan running (database open, embedded job runner)."""
    app = create_app(settings, secure_cookies=secure_cookies)
    async with app.router.lifespan_context(app):
        yield app


@dataclass
class BodyLog:
    """Every response body the tests fetched, to prove no secret ever leaves the app."""

    responses: list[httpx.Response] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    async def hook(self, response: httpx.Response) -> None:
        self.responses.append(response)

    def add(self, text: str) -> None:
        """Record text read from a stream (SSE), which the response does not keep."""
        self.texts.append(text)

    def bodies(self) -> Iterable[tuple[str, str]]:
        """(where, text) of every body read so far, headers but Set-Cookie included."""
        for response in self.responses:
            where = f"{response.request.method} {response.request.url}"
            headers = "\n".join(
                f"{k}: {v}" for k, v in response.headers.items() if k.lower() != "set-cookie"
            )
            yield where, headers
            try:
                yield where, response.text
            except httpx.ResponseNotRead:
                continue
        for text in self.texts:
            yield "stream", text

    def leaks(self, secrets: dict[str, str]) -> list[str]:
        """'<secret name> in <where>' for every secret found in a body."""
        found = []
        for where, text in self.bodies():
            for name, value in secrets.items():
                if value and value in text:
                    found.append(f"{name} in {where}")
        return found


def client(
    base_url: str = ASGI_BASE_URL,
    *,
    app: FastAPI | None = None,
    token: str | None = None,
    log: BodyLog | None = None,
    client_address: str = "127.0.0.1",
    timeout: float = 30.0,
) -> httpx.AsyncClient:
    """An httpx client over the ASGI ``app`` (in process) or to a live ``base_url``."""
    transport = (
        httpx.ASGITransport(app=app, client=(client_address, 50000)) if app is not None else None
    )
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    hooks: dict[str, list[Any]] = {"response": [log.hook]} if log else {}
    return httpx.AsyncClient(
        transport=transport,
        base_url=base_url,
        headers=headers,
        event_hooks=hooks,
        timeout=timeout,
        follow_redirects=False,
    )


def hidden_csrf(html: str) -> str:
    """The value of the form's hidden ``csrf_token`` field."""
    match = _HIDDEN_CSRF.search(html)
    if match is None:
        raise AssertionError("no hidden csrf_token field in the page")
    return match.group(1) or match.group(2)


async def sign_in(
    http: httpx.AsyncClient,
    username: str = ADMIN_USERNAME,
    password: str = ADMIN_PASSWORD,
    *,
    next_path: str = "/",
    expect_success: bool = True,
) -> httpx.Response:
    """Sign in through the real /login form: fetch it, post it with its CSRF token.

    Returns the answer to the POST (303 to ``next_path`` on success); the
    client keeps the session cookie.
    """
    page = await http.get("/login", params={"next": next_path})
    assert page.status_code == 200, page.text
    assert http.cookies.get(LOGIN_CSRF_COOKIE), "the login page set no CSRF cookie"
    answer = await http.post(
        "/login",
        data={
            "username": username,
            "password": password,
            CSRF_FIELD: hidden_csrf(page.text),
            "next": next_path,
        },
    )
    if expect_success:
        assert answer.status_code == 303, f"{answer.status_code}: {answer.text[:500]}"
        assert http.cookies.get(SESSION_COOKIE), "no session cookie after sign-in"
    return answer


async def session_csrf(http: httpx.AsyncClient, path: str = "/") -> str:
    """The CSRF token of the signed-in session, read from a page (meta tag or form)."""
    page = await http.get(path)
    assert page.status_code == 200, f"{path}: {page.status_code}"
    meta = re.search(r'<meta[^>]+name="csrf-token"[^>]+content="([^"]+)"', page.text)
    if meta:
        return meta.group(1)
    return hidden_csrf(page.text)


async def wait_for_job(
    http: httpx.AsyncClient, job_id: int, *, deadline: float = JOB_DEADLINE
) -> dict[str, Any]:
    """Poll GET /api/v1/jobs/{id} until the job has finished; its JSON."""

    async def job() -> dict[str, Any]:
        answer = await http.get(f"/api/v1/jobs/{job_id}")
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    return await eventually(
        job,
        until=lambda j: j["state"] not in ("queued", "running"),
        timeout=deadline,
        interval=0.3,
        what=f"job #{job_id} has not finished",
        show=lambda j: f"still {j['state']}",
    )


async def wait_idle(http: httpx.AsyncClient, *, deadline: float = JOB_DEADLINE) -> None:
    """Cancel every active job and wait until none is left (tests share the lab)."""
    answer = await http.get("/api/v1/jobs", params={"limit": 100})
    assert answer.status_code == 200, answer.text
    active = [j for j in answer.json()["items"] if j["state"] in ("queued", "running")]
    for job in active:
        await http.post(f"/api/v1/jobs/{job['id']}/cancel")
    for job in active:
        await wait_for_job(http, job["id"], deadline=deadline)


async def job_starts(http: httpx.AsyncClient, actor: str, job_id: int) -> int:
    """How many ``job.start`` entries under ``actor`` name job ``job_id`` (via the API)."""
    answer = await http.get("/api/v1/audit", params={"actor": actor, "limit": 200})
    assert answer.status_code == 200, answer.text
    return sum(
        1
        for e in answer.json()["items"]
        if e["action"] == "job.start" and e["detail"].get("job") == job_id
    )


# --- a real manager process ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def manager_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a ``clustermgr`` process using the data of ``settings``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLUSTERMGR_")}
    env.update(
        CLUSTERMGR_DATA_DIR=str(settings.data_dir),
        CLUSTERMGR_CONNECT_TIMEOUT=str(settings.connect_timeout),
        CLUSTERMGR_COMMAND_TIMEOUT=str(settings.command_timeout),
        **extra,
    )
    return env


@dataclass
class ManagerProcess:
    """``python -m clustermgr serve`` on a loopback port; stopped by its PID only."""

    settings: Settings
    port: int
    log_file: Path
    process: subprocess.Popen[bytes] | None = None
    #: More options of ``serve`` (``--host``...) and environment variables.
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, *, ready_within: float = 60.0) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "clustermgr", "serve", "--port", str(self.port), *self.args],
                env=manager_env(self.settings, **self.env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready(ready_within)

    def _wait_ready(self, within: float) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(
                    f"clustermgr serve exited with {self.process.returncode}:\n{self.log()}"
                )
            try:
                if httpx.get(f"{self.url}/login", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"clustermgr serve not ready after {within:g} s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: a crash, no clean shutdown."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (uvicorn shuts down cleanly), SIGKILL if it does not."""
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-5000:]
        except OSError:
            return ""


def copy_data_dir(source: Settings, target: Path) -> Settings:
    """A copy of a manager's data (database and secret key) in ``target``.

    The database is copied with SQLite's backup API, so a copy taken while
    another process writes is consistent.
    """
    target.mkdir(parents=True, exist_ok=True)
    db_file = source.data_dir / "clustermgr.db"
    with sqlite3.connect(db_file) as src, sqlite3.connect(target / "clustermgr.db") as dst:
        src.backup(dst)
    key = source.effective_secret_key_file
    (target / key.name).write_bytes(key.read_bytes())
    (target / key.name).chmod(0o600)
    return Settings(
        data_dir=target,
        connect_timeout=source.connect_timeout,
        command_timeout=source.command_timeout,
    )
