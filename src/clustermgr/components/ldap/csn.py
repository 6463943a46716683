"""Change sequence numbers: contextCSN values as times, compared between nodes, per provider.

A CSN (read by :mod:`clustermgr.facts.ldap`) holds the UTC time of
the change (microseconds), a count within that microsecond, the server id of
the node that made the change (hex) and a modification number.  A node's
contextCSN holds, per server id, the newest change it has from that server.
So "has node N caught up with peer P" is: N's CSN for P's server id is at
least the newest CSN for that id any node reports (normally P's own); and the
gap between the two CSN times is how far behind N is, in seconds of P's writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from clustermgr.facts.ldap import split_csn

_TIME = "%Y%m%d%H%M%S.%fZ"


@dataclass(frozen=True, order=True)
class Csn:
    """One CSN; ordering compares time, then count, then modification number."""

    time: datetime
    count: int
    mod: int
    server_id: int

    @classmethod
    def parse(cls, text: str) -> Csn:
        """Raises ValueError on anything that is not a CSN."""
        stamp, count, sid, mod = split_csn(text)
        moment = datetime.strptime(stamp, _TIME).replace(tzinfo=UTC)
        return cls(moment, int(count, 16), int(mod, 16), int(sid, 16))


@dataclass(frozen=True)
class PairStatus:
    """Whether ``host`` has every change of the provider with ``peer_server_id``."""

    host: str
    peer: str
    peer_server_id: int
    caught_up: bool
    #: Seconds between the newest change known anywhere and the newest on ``host``;
    #: None when ``host`` has no change of that peer at all (or nobody has).
    lag_seconds: float | None

    def as_dict(self) -> dict[str, object]:
        return {
            "host": self.host,
            "peer": self.peer,
            "peer_server_id": self.peer_server_id,
            "caught_up": self.caught_up,
            "lag_seconds": self.lag_seconds,
        }


def by_server_id(values: Mapping[str, str]) -> dict[int, Csn]:
    """A node's contextCSN values, keyed by server id; values that do not parse are left out."""
    out: dict[int, Csn] = {}
    for text in values.values():
        try:
            csn = Csn.parse(text)
        except ValueError:
            continue
        out[csn.server_id] = max(csn, out.get(csn.server_id, csn))
    return out


def pairs(nodes: Mapping[str, Mapping[int, Csn]], ids: Mapping[str, int]) -> list[PairStatus]:
    """Every (node, peer) pair of the nodes that answered (``nodes``); ``ids``: host -> id."""
    out = []
    for host, have in nodes.items():
        for peer, sid in ids.items():
            if peer == host:
                continue
            newest = max((n[sid] for n in nodes.values() if sid in n), default=None)
            mine = have.get(sid)
            if newest is None:  # the peer never wrote anything anyone has seen
                out.append(PairStatus(host, peer, sid, True, None))
            elif mine is None:
                out.append(PairStatus(host, peer, sid, False, None))
            else:
                lag = max(0.0, (newest.time - mine.time).total_seconds())
                out.append(PairStatus(host, peer, sid, mine >= newest, round(lag, 6)))
    return out
