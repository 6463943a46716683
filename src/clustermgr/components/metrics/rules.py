"""Threshold alert rules on the scraped metrics: what a rule is, the defaults, the measures.

A rule watches one series of every server of the roles it names: a series of the
catalog (``load1``, ``swap_used_bytes``...) or one of the :data:`MEASURES` made of
them (``cpu_busy_percent``...), optionally only the instances whose labels match
(``{"mount": "/"}``).  A value beyond the threshold (``>`` or ``<``) for the rule's
``duration`` seconds without a break opens an alert of the rule's severity; see
:mod:`~clustermgr.components.metrics.evaluate`.

:func:`default_rules` is the set every cluster starts with; a cluster's changes
(kept by :mod:`~clustermgr.components.metrics.rulestore`) replace a default rule
whole, or add a rule of its own.  ``host-unreachable`` is built in: the scrape
itself finds a server it cannot reach, and the rule only says after how long the
alert (a warning at once) takes the rule's severity, or turns it off.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from clustermgr.components.metrics.catalog import BY_NAME, Source
from clustermgr.errors import InvalidInput
from clustermgr.monitor.alerts import Severity
from clustermgr.monitor.series.ingest import Labels, Point
from clustermgr.topology import Role

#: The built-in rule on servers the scrape cannot reach (alert key ``host-unreachable:H``).
UNREACHABLE = "host-unreachable"
#: Its series: not a stored one, the scrape's own finding.
UNREACHABLE_SERIES = "unreachable"
RULE_ID = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
LABEL_VALUE = re.compile(r"^[A-Za-z0-9_./@+:-]{1,200}$")
#: The longest duration a rule may have: one day.
MAX_DURATION = 86_400.0

Comparison = Literal[">", "<"]
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


class Rule(BaseModel):
    """One threshold rule (every field checked against its allow-list)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="Letters a-z, digits and '-', 1 to 40, starting with a letter.")
    series: str = Field(description="A catalog series or a measure made of them.")
    labels: dict[str, str] = Field(
        default_factory=dict, description="Only the instances with these labels (e.g. mount)."
    )
    comparison: Comparison = ">"
    threshold: float = Field(default=0.0, allow_inf_nan=False)
    duration: float = Field(default=0.0, ge=0, le=MAX_DURATION, allow_inf_nan=False)
    severity: Severity = Severity.WARNING
    enabled: bool = True
    roles: tuple[Role, ...] = Field(
        default=(), description="The server roles it watches (default: all that have it)."
    )

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not RULE_ID.match(value):
            raise ValueError("letters a-z, digits and '-', 1 to 40, starting with a letter")
        return value

    @field_validator("series")
    @classmethod
    def _series(cls, value: str) -> str:
        if value != UNREACHABLE_SERIES and value not in MEASURES and value not in BY_NAME:
            raise ValueError(f"unknown series {value!r}; one of: {', '.join(series_names())}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        allowed = series_labels(self.series)
        for key, value in self.labels.items():
            if key not in allowed:
                has = ", ".join(allowed) or "none"
                raise ValueError(f"labels: {self.series} has no label {key!r} (it has: {has})")
            if not LABEL_VALUE.match(value):
                raise ValueError(f"labels: {key}: letters, digits and . _ / @ + : - (1 to 200)")
        roles = series_roles(self.series)
        if not set(self.roles) <= roles:
            has = ", ".join(sorted(r.value for r in roles))
            raise ValueError(f"roles: {self.series} is read on {has} servers only")
        if len(set(self.roles)) != len(self.roles):
            raise ValueError("roles: each role once")
        if (self.id == UNREACHABLE) != (self.series == UNREACHABLE_SERIES):
            raise ValueError(f"series: only the {UNREACHABLE} rule watches {UNREACHABLE_SERIES!r}")
        return self

    @property
    def watched_roles(self) -> frozenset[Role]:
        return frozenset(self.roles) or series_roles(self.series)

    def breached(self, value: float) -> bool:
        return value > self.threshold if self.comparison == ">" else value < self.threshold

    def describe(self) -> str:
        """The rule in words: ``cpu_busy_percent > 90 for 5 min``."""
        if self.series == UNREACHABLE_SERIES:
            after = words_duration(self.duration)
            return f"server unreachable: a warning at once, this severity after {after}"
        labels = ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()))
        series = f"{self.series}{{{labels}}}" if labels else self.series
        lasting = f" for {words_duration(self.duration)}" if self.duration else ""
        return f"{series} {self.comparison} {self.threshold:g}{lasting}"


class RuleChange(BaseModel):
    """What a front end changes in a rule (a new rule names its series, comparison and
    threshold)."""

    model_config = ConfigDict(extra="forbid")

    series: str | None = None
    labels: dict[str, str] | None = None
    comparison: Comparison | None = None
    threshold: float | None = Field(default=None, allow_inf_nan=False)
    duration: float | None = Field(default=None, ge=0, le=MAX_DURATION, allow_inf_nan=False)
    severity: Severity | None = None
    enabled: bool | None = None
    roles: tuple[Role, ...] | None = None

    def applied_to(self, rule: Rule | None, rule_id: str) -> Rule:
        """The rule with this change (``rule`` None: a new rule); InvalidInput names the
        field that is wrong."""
        change = self.model_dump(exclude_none=True)
        if rule is None:
            missing = [f for f in ("series", "comparison", "threshold") if f not in change]
            if missing:
                raise InvalidInput(
                    f"invalid rule {rule_id!r}: a new rule needs {', '.join(missing)}",
                    hint="an existing rule's id, or give the new rule's series, "
                    "comparison and threshold",
                )
            base: dict[str, Any] = {"id": rule_id}
        else:
            if rule.id == UNREACHABLE and set(change) & {
                "series",
                "labels",
                "comparison",
                "threshold",
            }:
                raise InvalidInput(
                    f"invalid rule {UNREACHABLE!r}: only its duration, severity, enabled and "
                    "roles change (the scrape finds an unreachable server)"
                )
            base = rule.model_dump()
            if "series" in change and change["series"] != rule.series and "labels" not in change:
                base["labels"] = {}
        return parse_rule({**base, **change})


def parse_rule(raw: Mapping[str, Any]) -> Rule:
    """A :class:`Rule` from ``raw``; InvalidInput names each field that is wrong."""
    try:
        return Rule.model_validate(dict(raw))
    except ValidationError as exc:
        raise invalid(exc, str(raw.get("id", "?"))) from None


def parse_change(raw: Mapping[str, Any], rule_id: str) -> RuleChange:
    try:
        return RuleChange.model_validate(dict(raw))
    except ValidationError as exc:
        raise invalid(exc, rule_id) from None


def invalid(exc: ValidationError, rule_id: str) -> InvalidInput:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'rule'}: "
        f"{str(e['msg']).removeprefix('Value error, ')}"
        for e in exc.errors()
    )
    return InvalidInput(f"invalid rule {rule_id!r}: {problems}")


def words_duration(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def default_rules(unreachable_after: float) -> tuple[Rule, ...]:
    """The rules of a cluster that changed none: CPU, memory, disk, load, Redis memory,
    and the unreachable server after ``unreachable_after`` seconds."""
    r = Rule
    crit = Severity.CRITICAL
    return (
        r(id="cpu-busy", series="cpu_busy_percent", threshold=90, duration=300),
        r(id="memory-used", series="memory_used_percent", threshold=90, duration=300),
        r(id="disk-used", series="disk_used_percent", threshold=85, duration=60),
        r(id="disk-full", series="disk_used_percent", threshold=95, duration=60, severity=crit),
        r(id="load-per-core", series="load1_per_core", threshold=2, duration=300),
        r(id="redis-memory", series="redis_memory_percent", threshold=90, duration=60),
        r(id=UNREACHABLE, series=UNREACHABLE_SERIES, duration=unreachable_after, severity=crit),
    )


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
