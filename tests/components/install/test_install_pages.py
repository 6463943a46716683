"""The install page: the settings form (repository or package file), the masked
setup.properties, a refused form given back filled in, and removing with what is lost
said first."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from clustermgr import openpgp
from clustermgr.components.install import store as install_store
from clustermgr.core.manager import Manager
from clustermgr.errors import NotFound
from clustermgr.inventory.schemas import ServerSpec
from clustermgr.services import clusters
from clustermgr.topology import Role
from clustermgr.validation import EXAMPLE_KEY
from clustermgr.web.security import CSRF_FIELD
from webfixture import session_csrf

pytestmark = pytest.mark.integration

PROXY = "proxy.install.test"
PASSWORD = 'it\'s a "secret" = yes'
FORM = {
    "organization": "Acme Widgets",
    "city": "Austin",
    "state": "TX",
    "country": "US",
    "admin_email": "admin@example.org",
    "version": "4.5.0-lab1",
    "source": "repository",
    "repository_url": "http://10.0.0.1:8765/gluu",
    "repository_suite": "stable",
    "repository_component": "main",
    "admin_password": PASSWORD,
}


@pytest.fixture
def manager(web_app: FastAPI) -> Manager:
    return web_app.state.web.manager  # type: ignore[no-any-return]


@pytest.fixture
async def cluster(manager: Manager) -> AsyncIterator[str]:
    name = f"inst-{secrets.token_hex(3)}"
    await clusters.create_cluster(manager, name)
    async with manager.store() as inventory:
        await inventory.add_server(
            ServerSpec(name, "idp1.install.test", "192.0.2.31", Role.IDENTITY), None, []
        )
        await inventory.add_server(ServerSpec(name, PROXY, "192.0.2.30", Role.PROXY), None, [])
    try:
        yield name
    finally:
        with contextlib.suppress(NotFound):
            await clusters.remove_cluster(manager, name)


async def test_the_settings_form_saves_and_shows_the_properties_masked(
    gui: httpx.AsyncClient, manager: Manager, cluster: str
) -> None:
    first = await gui.get(f"/clusters/{cluster}/install")
    assert first.status_code == 200 and 'id="not-installed"' in first.text
    token = await session_csrf(gui, f"/clusters/{cluster}/install")
    key = {"key_file": ("lab.asc", EXAMPLE_KEY.encode(), "application/pgp-keys")}
    saved = await gui.post(
        f"/clusters/{cluster}/install/settings", data={**FORM, CSRF_FIELD: token}, files=key
    )
    assert saved.status_code == 303, saved.text
    settings = await install_store.install_settings(manager, cluster)
    assert settings is not None and settings.repository_key == EXAMPLE_KEY
    page = (await gui.get(f"/clusters/{cluster}/install")).text
    assert f"hostname={PROXY}" in page and "oxtrust_admin_password=********" in page
    assert "secret" not in page.split('id="properties"')[1].split("</pre>")[0]
    assert 'value="Acme Widgets"' in page and PASSWORD not in page
    assert f"fingerprint <code>{openpgp.fingerprint(EXAMPLE_KEY)}</code>" in page


async def test_a_refused_form_comes_back_filled_in_with_why(
    gui: httpx.AsyncClient, manager: Manager, cluster: str
) -> None:
    token = await session_csrf(gui, f"/clusters/{cluster}/install")
    bad = {**FORM, "country": "USA", "repository_key": EXAMPLE_KEY, CSRF_FIELD: token}
    refused = await gui.post(f"/clusters/{cluster}/install/settings", data=bad)
    assert refused.status_code == 400
    assert 'id="install-problem"' in refused.text and "country" in refused.text
    assert 'value="Acme Widgets"' in refused.text, "what was typed is kept"
    assert PASSWORD not in refused.text, "but never the password"
    assert await install_store.install_settings(manager, cluster) is None, "nothing saved"
    no_key = {**FORM, CSRF_FIELD: token}
    refused = await gui.post(f"/clusters/{cluster}/install/settings", data=no_key)
    assert refused.status_code == 400 and "repository_key" in refused.text


async def test_an_offline_package_is_uploaded_and_kept(
    gui: httpx.AsyncClient, manager: Manager, cluster: str
) -> None:
    token = await session_csrf(gui, f"/clusters/{cluster}/install")
    package = b"!<arch>\ndebian-binary   2.0\n"
    form = {**FORM, "source": "offline", CSRF_FIELD: token}
    saved = await gui.post(
        f"/clusters/{cluster}/install/settings",
        data=form,
        files={
            "package_file": ("gluu-server.deb", package, "application/vnd.debian.binary-package")
        },
    )
    assert saved.status_code == 303, saved.text
    settings = await install_store.install_settings(manager, cluster)
    assert settings is not None and settings.package_sha256
    assert install_store.package(manager, settings.package_sha256) == package


async def test_removing_needs_the_box_that_says_what_is_lost(
    gui: httpx.AsyncClient, manager: Manager, cluster: str
) -> None:
    token = await session_csrf(gui, f"/clusters/{cluster}/install")
    await gui.post(
        f"/clusters/{cluster}/install/settings",
        data={**FORM, "repository_key": EXAMPLE_KEY, CSRF_FIELD: token},
    )
    page = (await gui.get(f"/clusters/{cluster}/install")).text
    assert "directory (o=gluu)" in page and "stays in the inventory" in page
    refused = await gui.post(
        f"/clusters/{cluster}/install/remove",
        data={"node": "idp1.install.test", CSRF_FIELD: token},
    )
    assert refused.status_code == 400 and "tick the box" in refused.text
