"""Tables of the inventory. Only services and the store touch these classes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clustermgr.db.base import Base, Timestamped, UTCDateTime, utcnow


class Cluster(Timestamped, Base):
    __tablename__ = "clusters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    #: Overrides of topology defaults (paths, ports); see inventory.schemas.ClusterSettings.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The highest LDAP server id ever given out here; only grows (components.ldap.ids).
    ldap_server_id_mark: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    servers: Mapped[list[Server]] = relationship(
        back_populates="cluster", cascade="all, delete-orphan", order_by="Server.id"
    )


class Credential(Timestamped, Base):
    """An SSH private key (and its passphrase), encrypted with the key outside the database."""

    __tablename__ = "credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    #: SHA256 fingerprint of the public half: identifies the key without revealing it.
    fingerprint: Mapped[str] = mapped_column(String(128))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)


class Server(Timestamped, Base):
    __tablename__ = "servers"
    __table_args__ = (
        UniqueConstraint("cluster_id", "hostname"),
        UniqueConstraint("cluster_id", "address", "ssh_port"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    hostname: Mapped[str] = mapped_column(String(253))
    address: Mapped[str] = mapped_column(String(253))
    ssh_port: Mapped[int] = mapped_column(Integer, default=22)
    ssh_user: Mapped[str] = mapped_column(String(32), default="root")
    role: Mapped[str] = mapped_column(String(16))
    #: Where it is in its life in the cluster (inventory.schemas.NodeState).
    state: Mapped[str] = mapped_column(String(16), default="member", server_default="member")
    credential_id: Mapped[int | None] = mapped_column(
        ForeignKey("credentials.id", ondelete="RESTRICT"), nullable=True
    )

    cluster: Mapped[Cluster] = relationship(back_populates="servers")
    credential: Mapped[Credential | None] = relationship()
    host_keys: Mapped[list[HostKeyPin]] = relationship(
        back_populates="server", cascade="all, delete-orphan", order_by="HostKeyPin.id"
    )


class HostKeyPin(Base):
    __tablename__ = "host_keys"
    __table_args__ = (UniqueConstraint("server_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server_id: Mapped[int] = mapped_column(ForeignKey("servers.id", ondelete="CASCADE"))
    algorithm: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[str] = mapped_column(String(4096))
    fingerprint: Mapped[str] = mapped_column(String(128))
    pinned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    server: Mapped[Server] = relationship(back_populates="host_keys")


class ClusterSecret(Timestamped, Base):
    """A secret of the cluster itself (the LDAP replicator's password), sealed by the vault."""

    __tablename__ = "cluster_secrets"
    __table_args__ = (UniqueConstraint("cluster_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)


class LdapServerId(Base):
    """An LDAP server id given to a hostname of the cluster (see components.ldap.ids).

    Kept when the server is removed (``server_id_ref`` becomes NULL), so the
    id stays taken: contextCSNs on the other nodes still name it.
    """

    __tablename__ = "ldap_server_ids"
    __table_args__ = (
        UniqueConstraint("cluster_id", "server_id"),
        UniqueConstraint("cluster_id", "hostname"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    hostname: Mapped[str] = mapped_column(String(253))
    server_id: Mapped[int] = mapped_column(Integer)
    #: The inventory server holding the id; NULL once it was removed (the id is retired).
    server_id_ref: Mapped[int | None] = mapped_column(
        ForeignKey("servers.id", ondelete="SET NULL"), nullable=True
    )
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
