"""Fixtures of the web tests: the app on the lab's inventory, a user, clients, a live server.

Names (kept stable, the browser tests use them too):

- ``web_admin``: :class:`WebUser` (username, password, API token) in the lab's database
- ``web_app``: the FastAPI app over the lab's settings, lifespan running (session)
- ``body_log``: every response body fetched through the clients below (session)
- ``api``: httpx client over ``web_app`` with the admin's bearer token
- ``anon``: httpx client over ``web_app`` with no credentials
- ``gui``: httpx client over ``web_app`` signed in through the real /login form
- ``live_server``: base URL of ``python -m clustermgr serve`` on the lab's data (session)
- ``live_api``: httpx client to ``live_server`` with the admin's token
- ``secrets_to_hide``: name -> secret text no response may contain
- ``fresh_web``: :class:`FreshWeb` (app, settings, admin): an app on an empty data dir of
  its own, for tests that would disturb the shared one (login throttling, cookies)
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from clustermgr.core.manager import Manager
from clustermgr.errors import NotFound
from clustermgr.services import clusters
from clustermgr.settings import Settings
from labfixture import Lab
from replicationdata import add_cluster
from webfixture import (
    BodyLog,
    FreshWeb,
    ManagerProcess,
    WebUser,
    client,
    copy_data_dir,
    create_user,
    free_port,
    running_app,
    sign_in,
)


@pytest.fixture(scope="session")
async def web_admin(lab: Lab) -> WebUser:
    """The admin user (known password) and its API token, in the lab's database."""
    return await create_user(lab.settings)


@pytest.fixture(scope="session")
async def web_app(lab: Lab, web_admin: WebUser) -> AsyncIterator[FastAPI]:
    """The real app on the lab's settings (inventory has cluster ``lab``), running."""
    async with running_app(lab.settings) as app:
        yield app


@pytest.fixture(scope="session")
def body_log() -> BodyLog:
    return BodyLog()


@pytest.fixture
async def api(
    web_app: FastAPI, web_admin: WebUser, body_log: BodyLog
) -> AsyncIterator[httpx.AsyncClient]:
    async with client(app=web_app, token=web_admin.token, log=body_log) as http:
        yield http


@pytest.fixture
async def anon(web_app: FastAPI, body_log: BodyLog) -> AsyncIterator[httpx.AsyncClient]:
    async with client(app=web_app, log=body_log) as http:
        yield http


@pytest.fixture
async def gui(
    web_app: FastAPI, web_admin: WebUser, body_log: BodyLog
) -> AsyncIterator[httpx.AsyncClient]:
    async with client(app=web_app, log=body_log) as http:
        await sign_in(http, web_admin.username, web_admin.password)
        yield http


@pytest.fixture(scope="session")
def live_process(
    lab: Lab, web_admin: WebUser, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ManagerProcess]:
    """``python -m clustermgr serve`` on a free loopback port, on a copy of the lab's data.

    A copy, not the file itself: two manager processes writing one SQLite file
    made jobs wait on each other's locks under load.
    """
    folder = tmp_path_factory.mktemp("live")
    settings = copy_data_dir(lab.settings, folder / "data")
    server = ManagerProcess(settings, free_port(), folder / "serve.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def live_server(live_process: ManagerProcess) -> str:
    return live_process.url


@pytest.fixture
async def live_manager(live_process: ManagerProcess) -> AsyncIterator[Manager]:
    """The live server's database, for what a test records for it to show."""
    manager = await Manager.open(live_process.settings)
    try:
        yield manager
    finally:
        await manager.close()


@pytest.fixture
async def live_api(
    live_server: str, web_admin: WebUser, body_log: BodyLog
) -> AsyncIterator[httpx.AsyncClient]:
    async with client(live_server, token=web_admin.token, log=body_log) as http:
        yield http


@pytest.fixture(scope="session")
def secrets_to_hide(lab: Lab, web_admin: WebUser) -> dict[str, str]:
    key_text = lab.config.ssh_key.read_text()
    body = "".join(line for line in key_text.splitlines() if "PRIVATE KEY" not in line)
    middle = len(body) // 2
    return {
        "lab private key": body[middle : middle + 40],
        "lab private key (end)": body[-40:],
        "admin password": web_admin.password,
        "API token": web_admin.token,
    }


@pytest.fixture
async def fresh_web(tmp_path: Path) -> AsyncIterator[FreshWeb]:
    """An app on an empty data dir of its own, with the admin user (no lab servers)."""
    settings = Settings(data_dir=tmp_path / "manager")
    admin = await create_user(settings)
    async with running_app(settings) as app:
        yield FreshWeb(app, settings, admin)


@pytest.fixture
def app_manager(web_app: FastAPI) -> Manager:
    """The manager of the in-process web app (``web_app``)."""
    return web_app.state.web.manager  # type: ignore[no-any-return]


@pytest.fixture
async def identity_cluster(app_manager: Manager) -> AsyncIterator[str]:
    """A cluster of the test's own with two identity servers never contacted
    (:func:`replicationdata.add_cluster`); removed afterwards."""
    name = await add_cluster(app_manager)
    try:
        yield name
    finally:
        with contextlib.suppress(NotFound):
            await clusters.remove_cluster(app_manager, name)
