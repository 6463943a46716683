"""Pure readers of what the scrape fetched: exporter pages, twemproxy's stats, cn=monitor.

Each turns one source's text into :class:`~clustermgr.monitor.series.ingest.Reading`
values named as the catalog names them (counters flagged, to become rates).  The
exporters' Prometheus text format is read by ``prometheus_client``'s parser.  A page
that is not what its source prints raises :class:`ScrapeError`; a value that is not
a finite number is skipped.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from clustermgr.components.metrics.catalog import LDAP_OPERATIONS
from clustermgr.errors import ClustermgrError
from clustermgr.facts.ldif import parse_ldif
from clustermgr.monitor.series.ingest import Point, Reading

#: File systems that are not disks (node exporter leaves most out already).  An overlay
#: is one: the root of a server in a container.
NOT_DISKS = frozenset({"tmpfs", "devtmpfs", "ramfs", "squashfs", "nsfs", "proc"})
#: Network interfaces left out: the loopback.
NOT_INTERFACES = frozenset({"lo"})


class ScrapeError(ClustermgrError):
    code = "scrape_error"


Sample = tuple[str, dict[str, str], float]


def samples(text: str) -> Iterator[Sample]:
    """Every finite sample of a Prometheus text page: (name, labels, value)."""
    try:
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if math.isfinite(s.value):
                    yield s.name, dict(s.labels), float(s.value)
    except ValueError as exc:
        raise ScrapeError(f"not a Prometheus metrics page: {exc}") from None


def _reading(
    host: str, name: str, value: float, *, counter: bool = False, **labels: str
) -> Reading:
    return Reading(host, name, tuple(sorted(labels.items())), value, counter)


def node(host: str, text: str) -> list[Reading]:
    """The node exporter's page: the host's CPU, load, memory, disks, network, uptime."""
    gauges: dict[str, float] = {}
    cpu: dict[str, float] = defaultdict(float)
    cpus: set[str] = set()
    fs: dict[str, dict[str, float]] = defaultdict(dict)
    out: list[Reading] = []
    per_device = {
        "node_disk_read_bytes_total": ("disk_read_bytes", None),
        "node_disk_written_bytes_total": ("disk_written_bytes", None),
        "node_network_receive_bytes_total": ("network_receive_bytes", NOT_INTERFACES),
        "node_network_transmit_bytes_total": ("network_transmit_bytes", NOT_INTERFACES),
        "node_network_receive_errs_total": ("network_receive_errors", NOT_INTERFACES),
        "node_network_transmit_errs_total": ("network_transmit_errors", NOT_INTERFACES),
    }
    for name, labels, value in samples(text):
        if name == "node_cpu_seconds_total":
            cpu[labels.get("mode", "")] += value
            cpus.add(labels.get("cpu", ""))
        elif name in ("node_filesystem_size_bytes", "node_filesystem_free_bytes"):
            if labels.get("fstype") not in NOT_DISKS and "mountpoint" in labels:
                fs[labels["mountpoint"]][name] = value
        elif name in per_device:
            series, left_out = per_device[name]
            device = labels.get("device", "")
            if not left_out or device not in left_out:
                out.append(_reading(host, series, value, counter=True, device=device))
        else:
            gauges[name] = value
    if not gauges and not cpu:
        raise ScrapeError("the node exporter's page holds none of its metrics")
    # CPU seconds of every CPU per mode, divided by the CPUs: its rate is a ratio.
    out += [
        _reading(host, "cpu", seconds / len(cpus), counter=True, mode=mode)
        for mode, seconds in sorted(cpu.items())
    ]
    if cpus:
        out.append(_reading(host, "cpu_cores", float(len(cpus))))
    for name in ("load1", "load5", "load15"):
        if f"node_{name}" in gauges:
            out.append(_reading(host, name, gauges[f"node_{name}"]))

    def diff(series: str, total: str, less: str) -> None:
        if total in gauges and less in gauges:
            out.append(_reading(host, series, gauges[total] - gauges[less]))

    diff("memory_used_bytes", "node_memory_MemTotal_bytes", "node_memory_MemAvailable_bytes")
    if "node_memory_MemAvailable_bytes" in gauges:
        out.append(
            _reading(host, "memory_available_bytes", gauges["node_memory_MemAvailable_bytes"])
        )
    diff("swap_used_bytes", "node_memory_SwapTotal_bytes", "node_memory_SwapFree_bytes")
    diff("uptime_seconds", "node_time_seconds", "node_boot_time_seconds")
    if "node_netstat_Tcp_CurrEstab" in gauges:
        out.append(_reading(host, "tcp_connections", gauges["node_netstat_Tcp_CurrEstab"]))
    for mount, sizes in sorted(fs.items()):
        size = sizes.get("node_filesystem_size_bytes")
        free = sizes.get("node_filesystem_free_bytes")
        if size is not None:
            out.append(_reading(host, "disk_size_bytes", size, mount=mount))
            if free is not None:
                out.append(_reading(host, "disk_used_bytes", size - free, mount=mount))
    return out


def _exporter(text: str, up: str, what: str) -> dict[str, float]:
    """An exporter's unlabelled samples; ScrapeError when it says its daemon is down."""
    found = {name: value for name, labels, value in samples(text) if not labels}
    if found.get(up) == 0:
        raise ScrapeError(f"the exporter cannot reach {what}")
    if up not in found:
        raise ScrapeError(f"the {what} exporter's page lacks {up}")
    return found


def redis(host: str, text: str) -> list[Reading]:
    """The Redis exporter's page: commands, memory, lookups, clients, evictions."""
    found = _exporter(text, "redis_up", "Redis")
    wanted = {
        "redis_commands_processed_total": ("redis_commands", True),
        "redis_memory_used_bytes": ("redis_memory_used_bytes", False),
        "redis_memory_max_bytes": ("redis_memory_max_bytes", False),
        "redis_connected_clients": ("redis_clients", False),
        "redis_evicted_keys_total": ("redis_evictions", True),
        "redis_keyspace_hits_total": (HITS, True),
        "redis_keyspace_misses_total": (MISSES, True),
    }
    return [
        _reading(host, series, found[name], counter=counter)
        for name, (series, counter) in wanted.items()
        if name in found
    ]


#: Lookups that found their key, and that did not: made into the hit ratio, not stored.
HITS, MISSES = "_redis_hits", "_redis_misses"


def derive(points: Iterable[Point]) -> list[Point]:
    """``points`` with the series made of others: Redis' hit ratio from its lookups' rates
    (none when there were no lookups)."""
    out: list[Point] = []
    lookups: dict[str, dict[str, float]] = defaultdict(dict)
    for p in points:
        if p.name in (HITS, MISSES):
            lookups[p.host][p.name] = p.value
        else:
            out.append(p)
    for host, rates in sorted(lookups.items()):
        hits, misses = rates.get(HITS), rates.get(MISSES)
        if hits is not None and misses is not None and hits + misses > 0:
            out.append(Point(host, "redis_hit_ratio", (), hits / (hits + misses)))
    return out


def nginx(host: str, text: str) -> list[Reading]:
    """The NGINX exporter's page: requests and connections by state."""
    found = _exporter(text, "nginx_up", "NGINX")
    out = []
    if "nginx_http_requests_total" in found:
        out.append(
            _reading(host, "nginx_requests", found["nginx_http_requests_total"], counter=True)
        )
    for state in ("active", "reading", "writing", "waiting"):
        if f"nginx_connections_{state}" in found:
            value = found[f"nginx_connections_{state}"]
            out.append(_reading(host, "nginx_connections", value, state=state))
    return out


def _number(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok and math.isfinite(value) else None


def twemproxy(host: str, text: str) -> list[Reading]:
    """twemproxy's stats (JSON): per pool its ejections, per server its requests and
    errors (errors, closed connections and timeouts together)."""
    try:
        stats = json.loads(text)
    except ValueError:
        raise ScrapeError("twemproxy's stats are not JSON") from None
    if not isinstance(stats, Mapping) or "service" not in stats:
        raise ScrapeError("twemproxy's stats lack their service name")
    out: list[Reading] = []
    for pool, section in sorted(stats.items()):
        if not isinstance(section, Mapping):
            continue
        ejects = _number(section.get("server_ejects"))
        if ejects is not None:
            out.append(_reading(host, "twemproxy_ejections", ejects, counter=True, pool=pool))
        for server, raw in sorted(section.items()):
            if not isinstance(raw, Mapping):
                continue
            requests = _number(raw.get("requests"))
            if requests is not None:
                out.append(
                    _reading(host, "twemproxy_requests", requests, counter=True, server=server)
                )
            errors = [_number(raw.get(k)) for k in ("server_err", "server_eof", "server_timedout")]
            if any(e is not None for e in errors):
                total = sum(e for e in errors if e is not None)
                out.append(_reading(host, "twemproxy_errors", total, counter=True, server=server))
    return out


def ldap(host: str, text: str) -> list[Reading]:
    """slapd's cn=monitor (LDIF): operations completed by type, connections open."""
    out: list[Reading] = []
    for dn, attrs in parse_ldif(text):
        rdns = [part.split("=", 1)[-1].strip().lower() for part in dn.split(",")]
        if len(rdns) == 3 and rdns[1:] == ["operations", "monitor"] and rdns[0] in LDAP_OPERATIONS:
            value = _first_number(attrs.get("monitoropcompleted"))
            if value is not None:
                out.append(_reading(host, "ldap_operations", value, counter=True, op=rdns[0]))
        elif rdns == ["current", "connections", "monitor"]:
            value = _first_number(attrs.get("monitorcounter"))
            if value is not None:
                out.append(_reading(host, "ldap_connections", value))
    if not out:
        raise ScrapeError("slapd's cn=monitor holds no operation counts (is it enabled?)")
    return out


def _first_number(values: list[str] | None) -> float | None:
    try:
        return float(values[0]) if values else None
    except ValueError:
        return None
