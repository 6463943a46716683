"""The ``logs`` section of a cluster's settings (pure): how much slapd logs.

slapd writes its log through syslog at the levels ``olcLogLevel`` names; the
central log reads it there.  A level is one or more of slapd's own keywords
(any case, separated by spaces); ``stats``, the default, logs every connection,
operation and result, what the ``conn``/``op`` fields of the slapd records come
from.
"""

from __future__ import annotations

from typing import Any

from clustermgr.errors import InvalidInput
from clustermgr.validation import Rule

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
