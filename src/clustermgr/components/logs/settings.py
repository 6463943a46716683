"""The ``logs`` section of a cluster's settings (pure): how much slapd logs, and how
long and how much of the cluster's logs the store keeps.

slapd writes its log through syslog at the levels ``olcLogLevel`` names; the
central log reads it there.  A level is one or more of slapd's own keywords
(any case, separated by spaces); ``stats``, the default, logs every connection,
operation and result, what the ``conn``/``op`` fields of the slapd records come
from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from clustermgr.errors import InvalidInput
from clustermgr.validation import Rule, range_in_words, whole_in_range

#: slapd's ``olcLogLevel`` names (OpenLDAP's), in the order a level is written.
SLAPD_LOG_LEVELS: tuple[str, ...] = (
    "none",
    "stats",
    "stats2",
    "sync",
    "conns",
    "filter",
    "config",
    "ACL",
    "args",
    "trace",
    "packets",
    "BER",
    "shell",
    "parse",
    "any",
)
#: The level a cluster gets unless it asks for another: one line per operation.
DEFAULT_SLAPD_LOG_LEVEL = "stats"
#: The key of the level in the cluster's ``logs`` settings.
SLAPD_LOG_LEVEL_KEY = "slapd_log_level"
SLAPD_LOG_LEVEL_RULE = (
    "slapd log level names separated by spaces: " + ", ".join(SLAPD_LOG_LEVELS) + " ('none' alone)"
)
_BY_LOWER = {name.lower(): name for name in SLAPD_LOG_LEVELS}


def checked_slapd_log_level(value: object) -> str:
    """``olcLogLevel``'s value: known names (any case) in canonical case and list order,
    each once; ``none`` only alone.  InvalidInput naming the allowed ones otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise _refuse(value)
    words = value.split()
    if any(w.lower() not in _BY_LOWER for w in words):
        raise _refuse(value)
    names = {_BY_LOWER[w.lower()] for w in words}
    if "none" in names and len(names) > 1:
        raise _refuse(value)
    return " ".join(n for n in SLAPD_LOG_LEVELS if n in names)


def _refuse(value: object) -> InvalidInput:
    return InvalidInput(f"{value!r} is not a slapd log level", hint=f"use {SLAPD_LOG_LEVEL_RULE}")


SLAPD_LOG_LEVEL = Rule(
    "slapd log level", SLAPD_LOG_LEVEL_RULE, checked_slapd_log_level, DEFAULT_SLAPD_LOG_LEVEL
)


def slapd_log_level(section: dict[str, Any]) -> str:
    """The level a cluster's ``logs`` settings ask for (the default when they do not)."""
    value = section.get(SLAPD_LOG_LEVEL_KEY)
    return DEFAULT_SLAPD_LOG_LEVEL if value is None else checked_slapd_log_level(value)


#: The keys of the retention in the cluster's ``logs`` settings, their defaults and
#: the ranges allowed (inclusive).
MAX_AGE_DAYS_KEY = "max_age_days"
MAX_MEGABYTES_KEY = "max_megabytes"
DEFAULT_MAX_AGE_DAYS = 14
DEFAULT_MAX_MEGABYTES = 1024
MAX_AGE_DAYS_RANGE = (1, 3650)
MAX_MEGABYTES_RANGE = (1, 1_048_576)
#: A megabyte of the size limit, in bytes (a mebibyte).
MEGABYTE = 1024 * 1024
_RANGES = {MAX_AGE_DAYS_KEY: MAX_AGE_DAYS_RANGE, MAX_MEGABYTES_KEY: MAX_MEGABYTES_RANGE}


def allowed(key: str) -> str:
    """The range of ``key`` in words: ``1 to 3,650``."""
    return range_in_words(*_RANGES[key])


def checked_whole(key: str, value: object) -> int:
    """``value`` as a whole number in ``key``'s range; InvalidInput naming both otherwise."""
    return whole_in_range(key, value, *_RANGES[key])


@dataclass(frozen=True)
class LogsSettings:
    """A cluster's ``logs`` settings as they apply: slapd's level and the retention."""

    slapd_log_level: str = DEFAULT_SLAPD_LOG_LEVEL
    max_age_days: int = DEFAULT_MAX_AGE_DAYS
    max_megabytes: int = DEFAULT_MAX_MEGABYTES

    @property
    def max_age(self) -> timedelta:
        return timedelta(days=self.max_age_days)

    @property
    def max_bytes(self) -> int:
        return self.max_megabytes * MEGABYTE

    def as_dict(self) -> dict[str, Any]:
        return {
            SLAPD_LOG_LEVEL_KEY: self.slapd_log_level,
            MAX_AGE_DAYS_KEY: self.max_age_days,
            MAX_MEGABYTES_KEY: self.max_megabytes,
        }


#: The keys a person may change, in the order they are shown.
EDITABLE = (SLAPD_LOG_LEVEL_KEY, MAX_AGE_DAYS_KEY, MAX_MEGABYTES_KEY)


def logs_settings(section: Mapping[str, Any]) -> LogsSettings:
    """The settings a cluster's ``logs`` section asks for (the defaults where it does not)."""
    return changed(LogsSettings(), {k: section[k] for k in EDITABLE if section.get(k) is not None})


def changed(current: LogsSettings, update: Mapping[str, Any]) -> LogsSettings:
    """``current`` with the values of ``update`` (any of :data:`EDITABLE`), each checked;
    InvalidInput names an unknown key or the first value not allowed."""
    unknown = sorted(set(update) - set(EDITABLE))
    if unknown:
        raise InvalidInput(
            f"unknown logs setting {', '.join(map(repr, unknown))}",
            hint="the logs settings are " + ", ".join(EDITABLE),
        )
    values = current.as_dict()
    for key, value in update.items():
        if value is None:
            continue
        if key == SLAPD_LOG_LEVEL_KEY:
            values[key] = checked_slapd_log_level(value)
        else:
            values[key] = checked_whole(key, value)
    return LogsSettings(**values)
