"""The series a threshold rule may watch: the catalog's, and the measures made of them.

A measure (``cpu_busy_percent``, ``disk_used_percent``...) is computed from one
host's catalog series of one scrape when the rules are evaluated, never stored.
:func:`host_values` gives both, per host, for
:func:`~clustermgr.components.metrics.evaluate.evaluate`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from clustermgr.components.metrics.catalog import BY_NAME, Source
from clustermgr.monitor.series.ingest import Labels, Point
from clustermgr.topology import Role

#: A host's values of this scrape: series -> labels -> value.
Values = dict[str, dict[Labels, float]]


@dataclass(frozen=True)
class Measure:
    """A series made of catalog series at evaluation time (never stored)."""

    name: str
    title: str
    unit: str
    source: Source
    labels: tuple[str, ...]
    compute: Callable[[Mapping[str, Mapping[Labels, float]]], dict[Labels, float]]


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return 100.0 * top / bottom if top is not None and bottom else None


def _cpu_busy(v: Mapping[str, Mapping[Labels, float]]) -> dict[Labels, float]:
    idle = v.get("cpu", {}).get((("mode", "idle"),))
    return {} if idle is None else {(): 100.0 * (1.0 - idle)}


def _memory_used(v: Mapping[str, Mapping[Labels, float]]) -> dict[Labels, float]:
    used = v.get("memory_used_bytes", {}).get(())
    free = v.get("memory_available_bytes", {}).get(())
    share = _ratio(used, used + free if used is not None and free is not None else None)
    return {} if share is None else {(): share}


def _disk_used(v: Mapping[str, Mapping[Labels, float]]) -> dict[Labels, float]:
    sizes = v.get("disk_size_bytes", {})
    out = {}
    for labels, used in v.get("disk_used_bytes", {}).items():
        share = _ratio(used, sizes.get(labels))
        if share is not None:
            out[labels] = share
    return out


def _load_per_core(v: Mapping[str, Mapping[Labels, float]]) -> dict[Labels, float]:
    load, cores = v.get("load1", {}).get(()), v.get("cpu_cores", {}).get(())
    return {} if load is None or not cores else {(): load / cores}


def _redis_memory(v: Mapping[str, Mapping[Labels, float]]) -> dict[Labels, float]:
    share = _ratio(
        v.get("redis_memory_used_bytes", {}).get(()), v.get("redis_memory_max_bytes", {}).get(())
    )
    return {} if share is None else {(): share}


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        Measure(
            "cpu_busy_percent",
            "CPU busy (100 less idle), % of all CPUs",
            "%",
            Source.NODE,
            (),
            _cpu_busy,
        ),
        Measure(
            "memory_used_percent", "memory used, % of total", "%", Source.NODE, (), _memory_used
        ),
        Measure(
            "disk_used_percent",
            "disk space used, % of size",
            "%",
            Source.NODE,
            ("mount",),
            _disk_used,
        ),
        Measure(
            "load1_per_core",
            "load average (1 minute) per CPU core",
            "",
            Source.NODE,
            (),
            _load_per_core,
        ),
        Measure(
            "redis_memory_percent",
            "Redis memory used, % of maxmemory (none without a maxmemory)",
            "%",
            Source.REDIS,
            (),
            _redis_memory,
        ),
    )
}

#: The roles whose servers have each source (see the scrape's readers).
SOURCE_ROLES: dict[Source, frozenset[Role]] = {
    Source.NODE: frozenset({Role.IDENTITY, Role.PROXY}),
    Source.LDAP: frozenset({Role.IDENTITY}),
    Source.REDIS: frozenset({Role.IDENTITY}),
    Source.TWEMPROXY: frozenset({Role.PROXY}),
    Source.NGINX: frozenset({Role.PROXY}),
}


def series_names() -> list[str]:
    """Every series a rule may watch: the measures, then the catalog's."""
    return [*MEASURES, *BY_NAME]


def series_labels(series: str) -> tuple[str, ...]:
    if series in MEASURES:
        return MEASURES[series].labels
    return BY_NAME[series].labels if series in BY_NAME else ()


def series_unit(series: str) -> str:
    if series in MEASURES:
        return MEASURES[series].unit
    return BY_NAME[series].unit if series in BY_NAME else "s"


def series_roles(series: str) -> frozenset[Role]:
    if series in MEASURES:
        return SOURCE_ROLES[MEASURES[series].source]
    if series in BY_NAME:
        return SOURCE_ROLES[BY_NAME[series].source]
    return frozenset(Role)


def host_values(points: Iterable[Point]) -> dict[str, Values]:
    """Host -> its values of one scrape: every catalog series, then the measures."""
    hosts: dict[str, Values] = {}
    for p in points:
        hosts.setdefault(p.host, {}).setdefault(p.name, {})[p.labels] = p.value
    for values in hosts.values():
        for m in MEASURES.values():
            found = {k: v for k, v in m.compute(values).items() if math.isfinite(v)}
            if found:
                values[m.name] = found
    return hosts
