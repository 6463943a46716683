"""twemproxy's view of its servers, from its stats port's JSON (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from clustermgr.components.cache.model import POOL, SERVER_RETRY_TIMEOUT_MS, STATS_INTERVAL_MS

#: A server ejected less than this long ago (µs), and without a connection since,
#: is out of the pool: the retry timeout, plus a stats interval for the figures
#: to catch up.
EJECTED_WINDOW_US = (SERVER_RETRY_TIMEOUT_MS + STATS_INTERVAL_MS) * 1000


@dataclass(frozen=True)
class ServerView:
    name: str
    ejected: bool
    #: µs since the epoch of the last ejection, 0 if never.
    ejected_at: int
    connections: int
    errors: int
    timeouts: int
    requests: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PoolView:
    #: times any server was ejected since twemproxy started (twemproxy counts per pool)
    ejections: int
    servers: tuple[ServerView, ...]
    #: twemproxy's own clock (s since the epoch) when it aggregated these figures
    timestamp: int

    def server(self, name: str) -> ServerView | None:
        return next((s for s in self.servers if s.name == name), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ejections": self.ejections,
            "timestamp": self.timestamp,
            "servers": [s.as_dict() for s in self.servers],
        }


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def parse_pool(stats: Mapping[str, Any], names: list[str], pool: str = POOL) -> PoolView:
    """The pool's servers named ``names``; a server the stats lack counts as ejected."""
    section = stats.get(pool)
    section = section if isinstance(section, Mapping) else {}
    now_us = _int(stats.get("timestamp")) * 1_000_000
    servers = []
    for name in names:
        raw = section.get(name)
        if not isinstance(raw, Mapping):
            servers.append(ServerView(name, True, 0, 0, 0, 0, 0))
            continue
        at = _int(raw.get("server_ejected_at"))
        connections = _int(raw.get("server_connections"))
        servers.append(
            ServerView(
                name,
                ejected=at > 0 and now_us - at < EJECTED_WINDOW_US and connections == 0,
                ejected_at=at,
                connections=connections,
                errors=_int(raw.get("server_err")) + _int(raw.get("server_eof")),
                timeouts=_int(raw.get("server_timedout")),
                requests=_int(raw.get("requests")),
            )
        )
    return PoolView(
        _int(section.get("server_ejects")), tuple(servers), _int(stats.get("timestamp"))
    )
