"""The install settings and what the install keeps in the inventory and the manager.

* the settings: the cluster settings' ``install`` section, changed only through
  :func:`change` (validated, audited, for admins);
* the Gluu admin's password (the user's) and the directory manager's (generated):
  cluster secrets, sealed;
* the first node's cluster files (certificates and keys), read after its setup: one
  cluster secret, sealed, so every later node gets the same;
* an offline package file: kept in the manager's data folder under its SHA-256.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from clustermgr.audit import service as audit
from clustermgr.auth.roles import UserRole, require
from clustermgr.components.install.properties import SetupValues
from clustermgr.components.install.settings import InstallSettings
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput, NotFound
from clustermgr.inventory.models import Cluster
from clustermgr.inventory.schemas import ClusterSettings
from clustermgr.inventory.store import InventoryStore, cluster_view
from clustermgr.redact import Secret
from clustermgr.services import clusterfiles

COMPONENT = "install"
ADMIN_SECRET = "gluu-admin"  # noqa: S105 (a name, not a password)
LDAP_SECRET = "gluu-ldap"  # noqa: S105 (a name, not a password)
#: The Gluu admin's password: what setup accepts (no control characters).
PASSWORD_MIN, PASSWORD_MAX = 8, 256
#: The largest package file the manager takes.
PACKAGE_MAX = 2 * 1024**3


def settings_of(cluster: Cluster) -> InstallSettings | None:
    """``cluster``'s install settings; None when Gluu Server is not installed by clustermgr."""
    raw = ClusterSettings.model_validate(cluster.settings or {}).section(COMPONENT)
    if not raw:
        return None
    try:
        return InstallSettings.model_validate(raw)
    except ValidationError as exc:
        raise invalid(exc) from None


def invalid(exc: ValidationError) -> InvalidInput:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: "
        f"{str(e['msg']).removeprefix('Value error, ')}"
        for e in exc.errors()
    )
    return InvalidInput(f"invalid install settings: {problems}")


async def install_settings(manager: Manager, cluster_name: str) -> InstallSettings | None:
    """The cluster's install settings; None when Gluu Server is not installed by clustermgr."""
    async with manager.store() as store:
        return settings_of(await store.cluster(cluster_name))


async def configured_clusters(manager: Manager) -> list[str]:
    """Clusters with install settings (one query, no SSH)."""
    async with manager.store() as store:
        rows = await store.session.execute(
            select(Cluster.name, Cluster.settings).order_by(Cluster.name)
        )
        return [
            name
            for name, settings in rows
            if ClusterSettings.model_validate(settings or {}).section(COMPONENT)
        ]


def check_password(password: Secret) -> Secret:
    """The admin's password as setup takes it; the message never shows it."""
    value = password.reveal()
    if not PASSWORD_MIN <= len(value) <= PASSWORD_MAX:
        raise InvalidInput(
            f"the admin password must have {PASSWORD_MIN} to {PASSWORD_MAX} characters"
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidInput("the admin password must not hold control characters (tab, newline)")
    return password


async def change(
    manager: Manager,
    cluster_name: str,
    settings: Mapping[str, Any],
    *,
    admin_password: Secret | None = None,
    actor: str,
    as_role: UserRole = UserRole.ADMIN,
) -> InstallSettings:
    """Replace the cluster's install settings with ``settings`` (validated as a whole)
    and, if given, the admin's password.  One audit entry under ``actor``; InvalidInput
    says what is wrong (a first setting needs the password)."""
    detail = {"settings": {k: v for k, v in settings.items() if k != "repository_key"}}
    async with audit.audited(
        manager, actor=actor, action="install.settings", target=cluster_name, detail=detail
    ):
        require(as_role, UserRole.ADMIN, "changing the install settings")
        try:
            parsed = InstallSettings.model_validate(dict(settings))
        except ValidationError as exc:
            raise invalid(exc) from None
        if admin_password is not None:
            check_password(admin_password)
        async with manager.store() as store:
            cluster = await store.cluster(cluster_name)
            if admin_password is not None:
                await store.replace_cluster_secret(cluster, ADMIN_SECRET, admin_password)
            elif await store.find_cluster_secret(cluster, ADMIN_SECRET) is None:
                raise InvalidInput("set the Gluu admin's password with the first install settings")
            store.set_component_settings(cluster, COMPONENT, parsed.model_dump(mode="json"))
    return parsed


async def setup_values(store: InventoryStore, cluster: Cluster) -> SetupValues:
    """What setup.properties says for ``cluster``: NotFound without install settings."""
    settings = settings_of(cluster)
    if settings is None:
        raise NotFound(f"cluster {cluster.name!r} has no install settings")
    hostname = cluster_view(cluster).public_hostname
    if hostname is None:
        raise InvalidInput(
            f"cluster {cluster.name!r} has no public hostname: add its proxy or set one"
        )
    admin = await store.find_cluster_secret(cluster, ADMIN_SECRET)
    if admin is None:
        raise InvalidInput("set the Gluu admin's password in the install settings")
    ldap = await store.cluster_secret(
        cluster, LDAP_SECRET, lambda: Secret.held(secrets.token_urlsafe(24), label="gluu-ldap")
    )
    return SetupValues(hostname, settings, ldap, admin)


async def shared_files(store: InventoryStore, cluster: Cluster) -> dict[str, bytes] | None:
    """The first node's cluster files, once read (sealed: see
    :mod:`clustermgr.services.clusterfiles`)."""
    kept = await clusterfiles.sealed(store, cluster)
    return None if kept is None else {p: f.content for p, f in kept.items()}


async def keep_shared_files(
    store: InventoryStore, cluster: Cluster, files: Mapping[str, bytes]
) -> None:
    await clusterfiles.seal(store, cluster, files)


def _packages(manager: Manager) -> Path:
    return Path(manager.settings.data_dir) / "packages"


def keep_package(manager: Manager, data: bytes) -> str:
    """Keep a package file the user gave; its SHA-256 names it."""
    if not data.startswith(b"!<arch>\n"):
        raise InvalidInput("not a Debian package file (.deb): it is not an ar archive")
    if len(data) > PACKAGE_MAX:
        raise InvalidInput(f"the package file is larger than {PACKAGE_MAX // 1024**3} GiB")
    digest = hashlib.sha256(data).hexdigest()
    folder = _packages(manager)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = folder / f"{digest}.deb"
    if not target.exists():
        partial = folder / f".{digest}.partial"
        partial.write_bytes(data)
        partial.rename(target)
    return digest


def package(manager: Manager, digest: str) -> bytes:
    """The kept package file with this SHA-256; NotFound when it is gone or changed."""
    path = _packages(manager) / f"{digest}.deb"
    if not path.exists():
        raise NotFound(
            f"the package file {digest[:16]}... is not in {path.parent}",
            hint="give the package file again (GUI upload or `install package FILE`)",
        )
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != digest:
        raise InvalidInput(f"the package file {path} changed since it was given: give it again")
    return data
