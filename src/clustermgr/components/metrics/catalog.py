"""What the monitoring measures: every stored series, its unit and where it comes from.

The one list of series names: the scrape's parsers produce only these names, the
API and the CLI accept only these (and name them when another is asked for).
A counter is stored as its rate per second (its unit says so); ``labels`` are
the labels a series of that name carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Source(StrEnum):
    """Where a series is read: an exporter, twemproxy's stats or slapd's cn=monitor."""

    NODE = "node"
    LDAP = "ldap"
    REDIS = "redis"
    TWEMPROXY = "twemproxy"
    NGINX = "nginx"


@dataclass(frozen=True)
class SeriesSpec:
    name: str
    source: Source
    unit: str
    title: str
    labels: tuple[str, ...] = ()


def _s(name: str, source: Source, unit: str, title: str, *labels: str) -> SeriesSpec:
    return SeriesSpec(name, source, unit, title, labels)


_N, _L, _R, _T, _X = Source.NODE, Source.LDAP, Source.REDIS, Source.TWEMPROXY, Source.NGINX

CATALOG: tuple[SeriesSpec, ...] = (
    _s("cpu", _N, "ratio", "CPU time by mode (share of all CPUs)", "mode"),
    _s("cpu_cores", _N, "", "CPUs (logical cores) the node exporter counts"),
    _s("load1", _N, "", "load average, 1 minute"),
    _s("load5", _N, "", "load average, 5 minutes"),
    _s("load15", _N, "", "load average, 15 minutes"),
    _s("memory_used_bytes", _N, "bytes", "memory used (total less available)"),
    _s("memory_available_bytes", _N, "bytes", "memory available"),
    _s("swap_used_bytes", _N, "bytes", "swap used"),
    _s("disk_used_bytes", _N, "bytes", "disk space used", "mount"),
    _s("disk_size_bytes", _N, "bytes", "disk size", "mount"),
    _s("disk_read_bytes", _N, "bytes/s", "disk reads", "device"),
    _s("disk_written_bytes", _N, "bytes/s", "disk writes", "device"),
    _s("network_receive_bytes", _N, "bytes/s", "network received", "device"),
    _s("network_transmit_bytes", _N, "bytes/s", "network sent", "device"),
    _s("network_receive_errors", _N, "errors/s", "network receive errors", "device"),
    _s("network_transmit_errors", _N, "errors/s", "network send errors", "device"),
    _s("tcp_connections", _N, "", "TCP connections established"),
    _s("uptime_seconds", _N, "s", "time since boot"),
    _s("ldap_operations", _L, "ops/s", "LDAP operations completed by type", "op"),
    _s("ldap_connections", _L, "", "LDAP connections open"),
    _s("redis_commands", _R, "ops/s", "Redis commands processed"),
    _s("redis_memory_used_bytes", _R, "bytes", "Redis memory used"),
    _s("redis_memory_max_bytes", _R, "bytes", "Redis maxmemory (0: no limit)"),
    _s("redis_hit_ratio", _R, "ratio", "Redis keyspace hits per lookup"),
    _s("redis_clients", _R, "", "Redis clients connected"),
    _s("redis_evictions", _R, "keys/s", "Redis keys evicted"),
    _s("twemproxy_requests", _T, "req/s", "twemproxy requests per server", "server"),
    _s("twemproxy_errors", _T, "errors/s", "twemproxy server errors and timeouts", "server"),
    _s("twemproxy_ejections", _T, "ejections/s", "twemproxy servers ejected", "pool"),
    _s("nginx_requests", _X, "req/s", "NGINX requests"),
    _s("nginx_connections", _X, "", "NGINX connections by state", "state"),
)

BY_NAME: dict[str, SeriesSpec] = {s.name: s for s in CATALOG}
#: LDAP operation types counted (cn=Operations,cn=Monitor entries, lower-cased).
LDAP_OPERATIONS = ("bind", "search", "add", "modify", "delete")
