"""Which charts the monitoring's pages draw: what each plots, for the browser to fill in.

A chart is a set of stored series (one host's or every host's) and how its lines
are made of them; the page renders each as a block with ``data-*`` attributes and
the GUI's chart script reads the series from the API and draws them.  Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from clustermgr.components.metrics.catalog import BY_NAME, CATALOG
from clustermgr.components.metrics.scrape import readers_for
from clustermgr.topology import Role


@dataclass(frozen=True)
class ChartSpec:
    #: Unique on its page: the chart's element id.
    key: str
    title: str
    #: The series whose lines it draws (one line per host and labels).
    series: tuple[str, ...]
    #: One host's series only (None: every host's).
    host: str | None = None
    #: How the values read: a catalog unit (``ratio`` reads as a percentage).
    unit: str = ""
    #: Each line divided by the sum of these series of the same host and labels.
    per: tuple[str, ...] = ()
    #: ``label=value``: the series with that label left out.
    drop: str = ""
    #: One line per host: the sum of its lines.
    total: bool = False

    @property
    def wanted(self) -> tuple[str, ...]:
        """Every series name it reads."""
        return tuple(dict.fromkeys((*self.series, *self.per)))


def host_summary(host: str) -> tuple[ChartSpec, ...]:
    """The overview's small multiples of one server: CPU, memory, disk, load."""
    return (
        ChartSpec(f"{host}-cpu", "CPU busy", ("cpu",), host, "ratio", drop="mode=idle", total=True),
        ChartSpec(
            f"{host}-memory",
            "memory used",
            ("memory_used_bytes",),
            host,
            "ratio",
            per=("memory_used_bytes", "memory_available_bytes"),
        ),
        ChartSpec(
            f"{host}-disk",
            "disk used",
            ("disk_used_bytes",),
            host,
            "ratio",
            per=("disk_size_bytes",),
        ),
        ChartSpec(f"{host}-load", "load average", ("load1", "load5", "load15"), host),
    )


#: The overview's rates of the services, every host's in one chart each.
SERVICE_RATES: tuple[ChartSpec, ...] = (
    ChartSpec("ldap-ops", "LDAP operations", ("ldap_operations",), unit="ops/s", total=True),
    ChartSpec("redis-commands", "Redis commands", ("redis_commands",), unit="ops/s"),
    ChartSpec(
        "twemproxy-requests",
        "twemproxy requests",
        ("twemproxy_requests",),
        unit="req/s",
        total=True,
    ),
    ChartSpec("nginx-requests", "NGINX requests", ("nginx_requests",), unit="req/s"),
)


def series_chart(name: str, host: str | None = None) -> ChartSpec:
    """One stored series as it is: a line per host and labels."""
    spec = BY_NAME[name]
    key = f"{host}-{name}" if host else name
    return ChartSpec(key, spec.title, (name,), host, spec.unit)


def host_charts(host: str, role: Role) -> tuple[ChartSpec, ...]:
    """Every series a server of ``role`` has, a chart each."""
    sources = {reader.source for reader in readers_for(role)}
    return tuple(series_chart(s.name, host) for s in CATALOG if s.source in sources)
