"""The ``logs`` section of a cluster's settings (pure): how much slapd logs.

slapd writes its log through syslog at the levels ``olcLogLevel`` names; the
central log reads it there.  Only the levels below are accepted: each is one of
slapd's own keywords, and together they cover "nothing", "every operation" (the
default), "every operation with its entries" and "replication".
"""

from __future__ import annotations

from typing import Any

from clustermgr.errors import InvalidInput

#: The slapd log levels a cluster may ask for (slapd's own keywords).
SLAPD_LOG_LEVELS = ("none", "stats", "stats2", "sync")
#: The level a cluster gets unless it asks for another: one line per operation.
DEFAULT_SLAPD_LOG_LEVEL = "stats"
#: The key of the level in the cluster's ``logs`` settings.
SLAPD_LOG_LEVEL_KEY = "slapd_log_level"


def checked_slapd_log_level(value: object) -> str:
    """``value`` when it is an allowed level; InvalidInput naming the allowed ones."""
    if isinstance(value, str) and value in SLAPD_LOG_LEVELS:
        return value
    raise InvalidInput(
        f"{value!r} is not a slapd log level clustermgr sets",
        hint=f"one of: {', '.join(SLAPD_LOG_LEVELS)}",
    )


def slapd_log_level(section: dict[str, Any]) -> str:
    """The level a cluster's ``logs`` settings ask for (the default when they do not)."""
    value = section.get(SLAPD_LOG_LEVEL_KEY)
    return DEFAULT_SLAPD_LOG_LEVEL if value is None else checked_slapd_log_level(value)
