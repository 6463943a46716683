"""Adding, listing, editing and removing servers.

Adding a server proves three things before anything is stored: its host key is
the one a person trusted, the stored credentials log in, and it is not already
in the cluster.  Any failure leaves the inventory exactly as it was.

A server whose host key changed (reinstalled) is trusted again only by a
person: :func:`check_host_key` shows the pinned and the presented key side by
side, :func:`trust_host_key` pins the presented one when it is the fingerprint
the person confirmed.

Adding, changing, re-trusting and removing a server each write one audit entry
under the ``actor`` given (``ok``, or ``refused``/``failed`` with the error code); the
entry names the server and how it is reached, never a key or a passphrase.
They are for admins: ``as_role`` is the caller's role (the web and the API pass
the user's; the CLI acts as admin); a refusal is audited too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from clustermgr.audit import service as audit
from clustermgr.auth.roles import UserRole, require
from clustermgr.core.access import HostAccess
from clustermgr.core.manager import Manager
from clustermgr.errors import AlreadyExists, HostKeyMismatch, HostKeyUnknown, InvalidInput
from clustermgr.inventory.schemas import ClusterView, ServerSpec, ServerView
from clustermgr.inventory.store import cluster_view, server_view
from clustermgr.redact import Secret
from clustermgr.remote.target import HostKey, SshCredentials, SshTarget


@dataclass(frozen=True)
class SshKeyInput:
    private_key: Secret
    passphrase: Secret | None = None

    def fingerprint(self) -> str:
        """The fingerprint of the key's public half; proves the passphrase opens it."""
        import asyncssh  # here: listing or removing servers parses no key

        passphrase = self.passphrase.reveal() if self.passphrase else None
        try:
            key = asyncssh.import_private_key(self.private_key.reveal(), passphrase)
        except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError, ValueError):
            raise InvalidInput(
                "the SSH private key cannot be read: not a private key, or a wrong passphrase",
                hint="give an OpenSSH or PEM private key file and its passphrase, if it has one",
            ) from None
        return str(key.get_fingerprint("sha256"))


def _target(cluster: str, hostname: str) -> str:
    return f"{cluster}/{hostname}"


async def add_server(
    manager: Manager,
    spec: ServerSpec,
    key: SshKeyInput | None,
    *,
    actor: str = "system",
    trusted_fingerprint: str | None = None,
    host_keys: Sequence[HostKey] = (),
    as_role: UserRole = UserRole.ADMIN,
) -> ServerView:
    """Add a server after checking its host key and logging in once (audited as ``actor``).

    ``host_keys``: keys known by other means (the lab records its hosts' keys).
    Otherwise the key the server presents is pinned only when it matches
    ``trusted_fingerprint``; with none given, :class:`HostKeyUnknown` carries
    the fingerprint for a person to compare and confirm.
    """
    detail = {
        "hostname": spec.hostname,
        "role": spec.role.value,
        "address": spec.address,
        "port": spec.ssh_port,
        "ssh_user": spec.ssh_user,
    }
    async with audit.audited(
        manager,
        actor=actor,
        action="server.add",
        target=_target(spec.cluster, spec.hostname),
        detail=detail,
    ) as outcome:
        require(as_role, UserRole.ADMIN, "adding a server")
        view = await _add(manager, spec, key, trusted_fingerprint, host_keys)
        outcome.detail["host_keys"] = [k.fingerprint for k in view.host_keys]
    return view


async def _add(
    manager: Manager,
    spec: ServerSpec,
    key: SshKeyInput | None,
    trusted_fingerprint: str | None,
    host_keys: Sequence[HostKey],
) -> ServerView:
    key_fingerprint = key.fingerprint() if key else None
    async with manager.store() as store:
        await store.check_new_server(spec)
    target = SshTarget(spec.hostname, spec.address, spec.ssh_port, spec.ssh_user)
    pinned = list(host_keys)
    if not pinned:
        from clustermgr.remote.hostkeys import scan_host_key  # AsyncSSH: only to reach a server

        presented = await scan_host_key(target, timeout=manager.settings.connect_timeout)
        if trusted_fingerprint is None:
            raise HostKeyUnknown(spec.hostname, presented.fingerprint, presented.algorithm)
        if trusted_fingerprint.strip() != presented.fingerprint:
            raise HostKeyMismatch(
                spec.hostname,
                trusted_fingerprint.strip(),
                (presented.algorithm, presented.fingerprint),
            )
        pinned = [presented]
    credentials = SshCredentials(
        private_key=key.private_key if key else None, passphrase=key.passphrase if key else None
    )
    candidate = ServerView(
        id=0,
        cluster=spec.cluster,
        hostname=spec.hostname,
        address=spec.address,
        ssh_port=spec.ssh_port,
        ssh_user=spec.ssh_user,
        role=spec.role,
        credential=None,
        host_keys=tuple(pinned),
    )
    async with HostAccess(manager.settings, [candidate], {spec.hostname: credentials}) as access:
        await access.platform(spec.hostname)  # logs in and probes; raises when it cannot
    async with manager.store() as store:
        credential = None
        if key is not None and key_fingerprint is not None:
            credential = await store.put_ssh_key(
                private_key=key.private_key, passphrase=key.passphrase, fingerprint=key_fingerprint
            )
        server = await store.add_server(spec, credential, pinned)
        return server_view(server, spec.cluster)


async def list_clusters(manager: Manager) -> list[ClusterView]:
    async with manager.store() as store:
        return [cluster_view(c) for c in await store.clusters()]


async def update_server(
    manager: Manager,
    cluster: str,
    hostname: str,
    *,
    address: str,
    ssh_port: int,
    ssh_user: str,
    role: str,
    actor: str = "system",
    as_role: UserRole = UserRole.ADMIN,
) -> ServerView:
    """Change how a server is reached and what it does; its name and pinned keys stay.

    The pinned host keys are kept: a new address that reaches another machine
    is refused at the next connection (host key changed), never trusted silently.
    The audit entry (as ``actor``) lists each field that changed, from and to.
    """
    async with audit.audited(
        manager, actor=actor, action="server.update", target=_target(cluster, hostname)
    ) as outcome:
        require(as_role, UserRole.ADMIN, "changing a server")
        spec = ServerSpec.parse(
            cluster=cluster,
            hostname=hostname,
            address=address,
            role=role,
            ssh_port=ssh_port,
            ssh_user=ssh_user,
        )
        async with manager.store() as store:
            row = await store.server(cluster, hostname)
            for other in (await store.cluster(cluster)).servers:
                if other.id != row.id and (other.address, other.ssh_port) == (
                    spec.address,
                    spec.ssh_port,
                ):
                    raise AlreadyExists(
                        f"{spec.address}:{spec.ssh_port} is already server {other.hostname!r} "
                        f"in cluster {cluster!r}",
                    )
            before = (row.address, row.ssh_port, row.ssh_user, row.role)
            row.address = spec.address
            row.ssh_port = spec.ssh_port
            row.ssh_user = spec.ssh_user
            row.role = spec.role.value
            await store.session.flush()
            after = (row.address, row.ssh_port, row.ssh_user, row.role)
            view = server_view(row, cluster)
        outcome.detail.update(
            {
                name: {"from": str(old), "to": str(new)}
                for name, old, new in zip(_FIELDS, before, after, strict=True)
                if old != new
            }
        )
    return view


#: The fields :func:`update_server` may change, as its audit entry names them.
_FIELDS = ("address", "ssh_port", "ssh_user", "role")


async def remove_server(
    manager: Manager,
    cluster: str,
    hostname: str,
    *,
    actor: str = "system",
    as_role: UserRole = UserRole.ADMIN,
) -> None:
    """Forget a server (nothing changes on the server itself); audited as ``actor``."""
    async with audit.audited(
        manager, actor=actor, action="server.remove", target=_target(cluster, hostname)
    ):
        require(as_role, UserRole.ADMIN, "removing a server")
        async with manager.store() as store:
            await store.remove_server(cluster, hostname)


@dataclass(frozen=True)
class HostKeyCheck:
    """A server's pinned keys beside the key it presents now (of a pinned type if it has one)."""

    server: ServerView
    presented: HostKey

    @property
    def trusted(self) -> bool:
        return self.presented.fingerprint in {k.fingerprint for k in self.server.host_keys}

    def as_dict(self) -> dict[str, object]:
        return {
            "cluster": self.server.cluster,
            "hostname": self.server.hostname,
            "pinned": [_key_dict(k) for k in self.server.host_keys],
            "presented": _key_dict(self.presented),
            "trusted": self.trusted,
        }


def _key_dict(key: HostKey) -> dict[str, str]:
    return {"algorithm": key.algorithm, "fingerprint": key.fingerprint}


async def check_host_key(manager: Manager, cluster: str, hostname: str) -> HostKeyCheck:
    """Read the key the server presents now (no login) to compare with the pinned ones."""
    async with manager.store() as store:
        server = server_view(await store.server(cluster, hostname), cluster)
    from clustermgr.remote.hostkeys import scan_like_pinned  # AsyncSSH: only to reach a server

    target = SshTarget(server.hostname, server.address, server.ssh_port, server.ssh_user)
    presented = await scan_like_pinned(
        target, server.host_keys, timeout=manager.settings.connect_timeout
    )
    return HostKeyCheck(server, presented)


async def trust_host_key(
    manager: Manager,
    cluster: str,
    hostname: str,
    fingerprint: str,
    *,
    actor: str = "system",
    as_role: UserRole = UserRole.ADMIN,
) -> HostKeyCheck:
    """Pin the key the server presents instead of its pinned keys (audited as ``actor``).

    ``fingerprint`` is the one a person compared with the server's own: the
    key is read again and pinned only when it still has that fingerprint
    (:class:`HostKeyMismatch` otherwise, and nothing changes).  A key that is
    already pinned is left as it is.
    """
    given = fingerprint.strip()
    async with audit.audited(
        manager,
        actor=actor,
        action="server.trust",
        target=_target(cluster, hostname),
        detail={"fingerprint": given},
    ) as outcome:
        require(as_role, UserRole.ADMIN, "trusting a server's host key")
        check = await check_host_key(manager, cluster, hostname)
        presented = check.presented
        outcome.detail["pinned"] = [str(k) for k in check.server.host_keys]
        if given != presented.fingerprint:
            raise HostKeyMismatch(hostname, given, (presented.algorithm, presented.fingerprint))
        if check.trusted:
            outcome.detail["changed"] = False
            return check
        async with manager.store() as store:
            row = await store.server(cluster, hostname)
            if (row.address, row.ssh_port) != (check.server.address, check.server.ssh_port):
                raise InvalidInput(
                    f"{hostname} was moved to {row.address}:{row.ssh_port} meanwhile: "
                    "its new key was read at the old address",
                    hint="check its host key again",
                )
            await store.replace_host_keys(row, [presented])
            view = server_view(row, cluster)
        outcome.detail["changed"] = True
        outcome.detail["trusted"] = str(presented)
    return HostKeyCheck(view, presented)
