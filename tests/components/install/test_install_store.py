"""The install settings in the inventory: validated, audited, the password sealed and
never shown, the shared files and the package file kept."""

from __future__ import annotations

import hashlib

import pytest

from clustermgr.audit.service import entries
from clustermgr.auth.roles import UserRole
from clustermgr.components.install import store as install_store
from clustermgr.components.install.properties import parse, render
from clustermgr.core.manager import Manager
from clustermgr.errors import Forbidden, InvalidInput, NotFound
from clustermgr.inventory.schemas import ServerSpec
from clustermgr.redact import Secret
from clustermgr.services import clusters
from clustermgr.topology import Role
from clustermgr.validation import EXAMPLE_KEY

CLUSTER = "inst"
PASSWORD = 'an admin\'s "pass" \\ with = and spaces'
FIELDS = {
    "organization": "Acme",
    "city": "Austin",
    "state": "TX",
    "country": "us",
    "admin_email": "admin@example.org",
    "version": "4.5.0-1",
    "repository_url": "http://10.0.0.1:8080/gluu",
    "repository_key": EXAMPLE_KEY,
}


@pytest.fixture
async def cluster(manager: Manager) -> str:
    await clusters.create_cluster(manager, CLUSTER)
    async with manager.store() as store:
        await store.add_server(
            ServerSpec(CLUSTER, "proxy1.example.org", "192.0.2.200", Role.PROXY), None, []
        )
    return CLUSTER


async def test_settings_are_validated_saved_and_the_password_sealed(
    manager: Manager, cluster: str
) -> None:
    with pytest.raises(InvalidInput, match="set the Gluu admin's password"):
        await install_store.change(manager, cluster, FIELDS, actor="tester")
    with pytest.raises(InvalidInput, match="8 to 256 characters"):
        await install_store.change(
            manager, cluster, FIELDS, admin_password=Secret("short"), actor="t"
        )
    with pytest.raises(InvalidInput, match="install settings: country"):
        await install_store.change(
            manager,
            cluster,
            {**FIELDS, "country": "USA"},
            admin_password=Secret(PASSWORD),
            actor="t",
        )
    saved = await install_store.change(
        manager, cluster, FIELDS, admin_password=Secret(PASSWORD), actor="tester"
    )
    assert saved.country == "US" and await install_store.install_settings(manager, cluster) == saved
    assert await install_store.configured_clusters(manager) == [cluster]
    # A later change keeps the password it does not give.
    await install_store.change(manager, cluster, {**FIELDS, "city": "Dallas"}, actor="tester")
    async with manager.store() as store:
        values = await install_store.setup_values(store, await store.cluster(cluster))
    assert values.hostname == "proxy1.example.org", "the cluster's public hostname"
    assert values.admin_password.reveal() == PASSWORD and values.settings.city == "Dallas"
    read = parse(render(values))
    assert read["oxtrust_admin_password"] == PASSWORD and read["ldapPass"]
    audited = [e for e in await entries(manager) if e.action == "install.settings"]
    assert len(audited) == 5 and PASSWORD not in repr([e.detail for e in audited])


async def test_only_an_admin_changes_them(manager: Manager, cluster: str) -> None:
    with pytest.raises(Forbidden):
        await install_store.change(
            manager,
            cluster,
            FIELDS,
            admin_password=Secret(PASSWORD),
            actor="v",
            as_role=UserRole.OPERATOR,
        )
    assert await install_store.install_settings(manager, cluster) is None


async def test_the_shared_files_and_the_package_file_are_kept(
    manager: Manager, cluster: str
) -> None:
    async with manager.store() as store:
        row = await store.cluster(cluster)
        assert await install_store.shared_files(store, row) is None
        await install_store.keep_shared_files(store, row, {"/etc/certs/httpd.key": b"\x00key\xff"})
    async with manager.store() as store:
        kept = await install_store.shared_files(store, await store.cluster(cluster))
    assert kept == {"/etc/certs/httpd.key": b"\x00key\xff"}
    package = b"!<arch>\ndebian-binary   a package"
    digest = install_store.keep_package(manager, package)
    assert digest == hashlib.sha256(package).hexdigest()
    assert install_store.package(manager, digest) == package
    with pytest.raises(InvalidInput, match="not a Debian package"):
        install_store.keep_package(manager, b"<html>")
    with pytest.raises(NotFound, match="is not in"):
        install_store.package(manager, "0" * 64)
