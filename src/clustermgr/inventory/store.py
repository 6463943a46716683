"""Reading and writing the inventory inside one database session.

Services open the session (one transaction per use case) and call the store;
the store returns ORM rows to services only, and views (plain values) to
everyone else.  Duplicate checks happen here, before the insert, so the user
gets a message naming the clash rather than a constraint name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from clustermgr.errors import AlreadyExists, NotFound
from clustermgr.inventory.models import (
    Cluster,
    ClusterSecret,
    Credential,
    HostKeyPin,
    Server,
)
from clustermgr.inventory.schemas import (
    ClusterSettings,
    ClusterView,
    NodeState,
    ServerSpec,
    ServerView,
)
from clustermgr.inventory.vault import Vault
from clustermgr.redact import Secret
from clustermgr.remote.target import HostKey, SshCredentials
from clustermgr.topology import Role

_SERVER_LOAD = (selectinload(Server.host_keys), selectinload(Server.credential))


class InventoryStore:
    def __init__(self, session: AsyncSession, vault: Vault) -> None:
        self.session = session
        self.vault = vault

    # --- clusters ---------------------------------------------------------

    async def find_cluster(self, name: str) -> Cluster | None:
        query = (
            select(Cluster)
            .where(Cluster.name == name)
            .options(selectinload(Cluster.servers).options(*_SERVER_LOAD))
        )
        return (await self.session.scalars(query)).one_or_none()

    async def cluster(self, name: str) -> Cluster:
        found = await self.find_cluster(name)
        if found is None:
            raise NotFound(f"no cluster named {name!r}", hint="see `clustermgr cluster list`")
        return found

    async def clusters(self) -> list[Cluster]:
        query = (
            select(Cluster)
            .order_by(Cluster.name)
            .options(selectinload(Cluster.servers).options(*_SERVER_LOAD))
        )
        return list(await self.session.scalars(query))

    async def create_cluster(self, name: str, settings: ClusterSettings) -> Cluster:
        if await self.find_cluster(name) is not None:
            raise AlreadyExists(f"cluster {name!r} already exists")
        cluster = Cluster(name=name, settings=settings.model_dump(exclude_defaults=True))
        self.session.add(cluster)
        await self.session.flush()
        return await self.cluster(name)

    async def remove_cluster(self, name: str) -> None:
        await self.session.delete(await self.cluster(name))

    async def ensure_cluster(self, name: str) -> Cluster:
        return await self.find_cluster(name) or await self.create_cluster(name, ClusterSettings())

    # --- servers ----------------------------------------------------------

    async def server(self, cluster: str, hostname: str) -> Server:
        query = (
            select(Server)
            .join(Cluster)
            .where(Cluster.name == cluster, Server.hostname == hostname)
            .options(*_SERVER_LOAD, selectinload(Server.cluster))
        )
        found = (await self.session.scalars(query)).one_or_none()
        if found is None:
            raise NotFound(
                f"no server {hostname!r} in cluster {cluster!r}",
                hint="see `clustermgr server list`",
            )
        return found

    async def check_new_server(self, spec: ServerSpec) -> None:
        """Refuse a server whose hostname or SSH endpoint is already in the cluster."""
        cluster = await self.find_cluster(spec.cluster)
        if cluster is None:
            return
        for existing in cluster.servers:
            if existing.hostname == spec.hostname:
                raise AlreadyExists(
                    f"server {spec.hostname!r} is already in cluster {spec.cluster!r}",
                    hint="edit or remove it instead of adding it again",
                )
            if (existing.address, existing.ssh_port) == (spec.address, spec.ssh_port):
                raise AlreadyExists(
                    f"{spec.address}:{spec.ssh_port} is already server {existing.hostname!r} "
                    f"in cluster {spec.cluster!r}",
                )

    async def add_server(
        self, spec: ServerSpec, credential: Credential | None, host_keys: list[HostKey]
    ) -> Server:
        await self.check_new_server(spec)
        cluster = await self.ensure_cluster(spec.cluster)
        server = Server(
            cluster_id=cluster.id,
            hostname=spec.hostname,
            address=spec.address,
            ssh_port=spec.ssh_port,
            ssh_user=spec.ssh_user,
            role=spec.role.value,
            state=spec.state.value,
            credential_id=credential.id if credential else None,
        )
        server.host_keys = _pins(host_keys)
        self.session.add(server)
        await self.session.flush()
        return await self.server(spec.cluster, spec.hostname)

    async def replace_host_keys(self, server: Server, host_keys: list[HostKey]) -> None:
        """Pin ``host_keys`` instead of the server's current keys."""
        server.host_keys = []
        await self.session.flush()
        server.host_keys = _pins(host_keys)
        await self.session.flush()

    async def set_state(self, cluster: str, hostname: str, state: NodeState) -> Server:
        server = await self.server(cluster, hostname)
        server.state = state.value
        await self.session.flush()
        return server

    async def remove_server(self, cluster: str, hostname: str) -> None:
        await self.session.delete(await self.server(cluster, hostname))

    # --- credentials ------------------------------------------------------

    async def put_ssh_key(
        self, *, private_key: Secret, passphrase: Secret | None, fingerprint: str
    ) -> Credential:
        """Store a private key once; the same key given again reuses the stored row."""
        query = select(Credential).where(
            Credential.kind == "ssh_key", Credential.fingerprint == fingerprint
        )
        existing = (await self.session.scalars(query)).first()
        count = await self.session.scalar(select(func.count()).select_from(Credential))
        ciphertext = self.vault.seal(
            {"private_key": private_key, "passphrase": passphrase}, first=not count
        )
        if existing is not None:
            existing.ciphertext = ciphertext  # the passphrase may have changed
            return existing
        credential = Credential(
            name=f"ssh-key {fingerprint}",
            kind="ssh_key",
            fingerprint=fingerprint,
            ciphertext=ciphertext,
        )
        self.session.add(credential)
        await self.session.flush()
        return credential

    async def clusters_with_secret(self, name: str) -> list[str]:
        """Names of the clusters holding a secret called ``name`` (one query)."""
        found = await self.session.scalars(
            select(Cluster.name)
            .join(ClusterSecret, ClusterSecret.cluster_id == Cluster.id)
            .where(ClusterSecret.name == name)
            .order_by(Cluster.name)
        )
        return list(found)

    async def find_cluster_secret(self, cluster: Cluster, name: str) -> Secret | None:
        """The cluster's secret ``name``, or None when it was never made."""
        query = select(ClusterSecret).where(
            ClusterSecret.cluster_id == cluster.id, ClusterSecret.name == name
        )
        found = (await self.session.scalars(query)).one_or_none()
        if found is None:
            return None
        value: Secret = self.vault.open(found.ciphertext, label=f"{cluster.name}.{name}")["value"]
        return value

    async def cluster_secret(
        self, cluster: Cluster, name: str, make: Callable[[], Secret]
    ) -> Secret:
        """The cluster's secret ``name``; made with ``make`` and sealed on first use."""
        found = await self.find_cluster_secret(cluster, name)
        if found is not None:
            return found
        label = f"{cluster.name}.{name}"
        credentials = await self.session.scalar(select(func.count()).select_from(Credential))
        secrets = await self.session.scalar(select(func.count()).select_from(ClusterSecret))
        value = make()
        sealed = self.vault.seal({"value": value}, first=not credentials and not secrets)
        self.session.add(ClusterSecret(cluster_id=cluster.id, name=name, ciphertext=sealed))
        await self.session.flush()
        return Secret.held(value.reveal(), label=label)

    async def replace_cluster_secret(self, cluster: Cluster, name: str, value: Secret) -> Secret:
        """Seal ``value`` as the cluster's secret ``name``, replacing the one it had."""
        query = select(ClusterSecret).where(
            ClusterSecret.cluster_id == cluster.id, ClusterSecret.name == name
        )
        found = (await self.session.scalars(query)).one_or_none()
        if found is None:
            return await self.cluster_secret(cluster, name, lambda: value)
        found.ciphertext = self.vault.seal({"value": value}, first=False)
        await self.session.flush()
        return Secret.held(value.reveal(), label=f"{cluster.name}.{name}")

    def set_settings(self, cluster: Cluster, changes: Mapping[str, object]) -> ClusterSettings:
        """Replace the cluster's own settings named in ``changes`` (None: back to the
        default), validated as a whole (InvalidInput); component sections are kept."""
        settings = dict(cluster.settings or {})
        for name, value in changes.items():
            if value is None:
                settings.pop(name, None)
            else:
                settings[name] = value
        parsed = ClusterSettings.parse(settings)
        for name in settings.keys() & changes.keys():
            settings[name] = getattr(parsed, name)  # the canonical form
        cluster.settings = settings
        return parsed

    def set_component_settings(
        self, cluster: Cluster, component: str, section: dict[str, Any]
    ) -> None:
        """Keep a component's settings in the cluster's settings (new dicts: JSON
        columns see only assignments); an empty section is dropped."""
        settings = dict(cluster.settings or {})
        sections = dict(settings.get("components") or {})
        if section:
            sections[component] = section
        else:
            sections.pop(component, None)
        settings["components"] = sections
        cluster.settings = settings

    def credentials_for(self, server: Server) -> SshCredentials:
        if server.credential is None:
            return SshCredentials()
        fields = self.vault.open(server.credential.ciphertext, label=server.credential.name)
        return SshCredentials(
            private_key=fields.get("private_key"), passphrase=fields.get("passphrase")
        )


def server_view(server: Server, cluster_name: str) -> ServerView:
    return ServerView(
        id=server.id,
        cluster=cluster_name,
        hostname=server.hostname,
        address=server.address,
        ssh_port=server.ssh_port,
        ssh_user=server.ssh_user,
        role=Role(server.role),
        state=NodeState(server.state),
        credential=server.credential.name if server.credential else None,
        host_keys=tuple(
            HostKey(algorithm=k.algorithm, public_key=k.public_key, fingerprint=k.fingerprint)
            for k in server.host_keys
        ),
    )


def cluster_view(cluster: Cluster) -> ClusterView:
    return ClusterView(
        id=cluster.id,
        name=cluster.name,
        settings=ClusterSettings.parse(cluster.settings or {}),
        servers=tuple(server_view(s, cluster.name) for s in cluster.servers),
    )


def _pins(host_keys: list[HostKey]) -> list[HostKeyPin]:
    return [
        HostKeyPin(algorithm=k.algorithm, public_key=k.public_key, fingerprint=k.fingerprint)
        for k in host_keys
    ]
