"""Threshold alert rules on the scraped metrics: what a rule is, and the defaults.

A rule watches one series of every server of the roles it names: a series of the
catalog (``load1``, ``swap_used_bytes``...) or a measure made of them
(:mod:`~clustermgr.components.metrics.measures`: ``cpu_busy_percent``...),
optionally only the instances whose labels match (``{"mount": "/"}``).  A value
beyond the threshold (``>`` or ``<``) for the rule's ``duration`` seconds without a
break opens an alert of the rule's severity; see
:mod:`~clustermgr.components.metrics.evaluate`.

:func:`default_rules` is the set every cluster starts with; a cluster's changes
(kept by :mod:`~clustermgr.components.metrics.rulestore`) replace a default rule
whole, or add a rule of its own.  ``host-unreachable`` is built in: the scrape
itself finds a server it cannot reach, and the rule only says after how long the
alert (a warning at once) takes the rule's severity, or turns it off.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from clustermgr.components.metrics.catalog import BY_NAME
from clustermgr.components.metrics.measures import (
    MEASURES,
    series_labels,
    series_names,
    series_roles,
)
from clustermgr.errors import InvalidInput
from clustermgr.monitor.alerts import Severity
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
