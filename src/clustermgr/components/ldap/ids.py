"""Server ids and syncrepl rids: the one place that numbers replication.

Why stored, not derived: OpenLDAP writes a node's server id into every CSN it
makes (``...#<sid hex>#...``) and the other nodes keep that CSN in their
contextCSN for good.  A new node that got a retired node's id would have its
changes judged against the old node's CSNs and silently dropped, so ids are
assigned once per (cluster, hostname), kept in the inventory
(table ``ldap_server_ids``) after the server is removed, and handed out from a
per-cluster high-water mark (``clusters.ldap_server_id_mark``) that only grows.

The numbers:

* ``olcServerID`` is 1..4095 (:data:`MAX_SERVER_ID`).
* A syncrepl ``rid`` is 1..999 (:data:`MAX_RID`), three decimal digits.  A
  node's agreement with a peer uses the **peer's server id** as its rid: within
  one node's agreements the peers are distinct, so rids are unique there, and
  the same number names the same provider everywhere, which makes logs easy to
  read.  A server id above 999 therefore cannot be replicated from; :func:`rid_for`
  refuses it with a message rather than letting slapd reject the agreement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from clustermgr.db.base import utcnow
from clustermgr.errors import InvalidInput
from clustermgr.inventory.models import Cluster, LdapServerId, Server
from clustermgr.inventory.store import InventoryStore

MAX_SERVER_ID = 4095
MAX_RID = 999


@dataclass(frozen=True)
class Assigned:
    """A stored assignment: the id and the inventory server it was given to."""

    server_id: int
    #: servers.id of the holder; None once that server was removed (retired).
    server_ref: int | None


@dataclass(frozen=True)
class Assignment:
    """What :func:`assign` decided: every current host's id, and what to store."""

    ids: dict[str, int]
    #: hostname -> (server id, servers.id) rows to insert or overwrite.
    changed: dict[str, Assigned]
    mark: int


def assign(
    servers: Sequence[tuple[str, int]], stored: Mapping[str, Assigned], mark: int
) -> Assignment:
    """Ids for ``servers`` (hostname, servers.id), keeping every stored one still held.

    A host whose stored id belonged to another (removed) server row gets a new
    id: it comes back with an empty database, and its old id is retired.
    New ids come from above ``mark`` and every id ever stored, in ``servers`` order.
    """
    mark = max([mark, *(a.server_id for a in stored.values())])
    ids: dict[str, int] = {}
    changed: dict[str, Assigned] = {}
    for hostname, ref in servers:
        known = stored.get(hostname)
        if known is not None and known.server_ref == ref:
            ids[hostname] = known.server_id
            continue
        mark += 1
        if mark > MAX_SERVER_ID:
            raise InvalidInput(
                f"no LDAP server id left for {hostname!r}: ids 1..{MAX_SERVER_ID} "
                "were all given out (ids of removed servers are never reused)"
            )
        ids[hostname] = mark
        changed[hostname] = Assigned(mark, ref)
    return Assignment(ids, changed, mark)


def rid_for(peer_server_id: int) -> int:
    """The rid of an agreement replicating from the peer with this server id."""
    if not 1 <= peer_server_id <= MAX_RID:
        raise InvalidInput(
            f"LDAP server id {peer_server_id} cannot be replicated from: a syncrepl rid "
            f"is 1..{MAX_RID} and clustermgr uses the provider's server id as its rid",
            hint="this cluster has given out more server ids than replication can name",
        )
    return peer_server_id


async def server_ids(
    store: InventoryStore, cluster: Cluster, servers: list[Server], *, keep: bool = True
) -> dict[str, int]:
    """Each server's LDAP server id: the stored one, or a new one (stored when ``keep``).

    Only an apply keeps new ids: stored ids are what marks a cluster as
    replicating (the watcher checks such clusters).  A plan shows the same ids
    (the assignment is deterministic) without storing them.

    The cluster row is locked first (``FOR UPDATE`` on PostgreSQL) so two
    applies at once cannot hand out the same id; the unique constraints
    would refuse the second anyway.
    """
    await store.session.execute(
        select(Cluster.id).where(Cluster.id == cluster.id).with_for_update()
    )
    query = select(LdapServerId).where(LdapServerId.cluster_id == cluster.id)
    rows = {r.hostname: r for r in await store.session.scalars(query)}
    stored = {h: Assigned(r.server_id, r.server_id_ref) for h, r in rows.items()}
    result = assign([(s.hostname, s.id) for s in servers], stored, cluster.ldap_server_id_mark)
    if not keep:
        return result.ids
    for hostname, new in result.changed.items():
        row = rows.get(hostname)
        if row is None:
            row = LdapServerId(cluster_id=cluster.id, hostname=hostname)
            store.session.add(row)
        row.server_id, row.server_id_ref = new.server_id, new.server_ref
        row.assigned_at = utcnow()
    cluster.ldap_server_id_mark = result.mark
    await store.session.flush()
    return result.ids
