"""What a check cycle's findings do to the open alerts: open, refresh, resolve (pure).

A cycle reports every problem it found (a :class:`Finding`) and the keys it could
not judge (``unknown``: a node it could not reach cannot say whether its
agreements work).  An open alert is resolved only when its key was judged and
found healthy; an unknown key keeps its alert as it is, open or not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem a check found: ``key`` names it stably across cycles."""

    key: str
    severity: Severity
    #: In words, hostnames only (never a password or a config value).
    message: str
    #: The technical record behind it (a command, its stderr), masked: for who digs.
    details: str = ""


@dataclass(frozen=True)
class Transition:
    """What to write: findings to open, open keys to refresh and to resolve."""

    open: tuple[Finding, ...] = ()
    refresh: tuple[Finding, ...] = ()
    resolve: tuple[str, ...] = field(default=())


def transition(
    findings: Iterable[Finding],
    open_keys: Iterable[str],
    unknown: Iterable[str] = (),
    *,
    judged: Iterable[str] | None = None,
) -> Transition:
    """Compare this cycle's findings with the keys of the alerts open now.

    ``judged``, when given, limits what may resolve to these keys (a partial
    check, such as one probe, says nothing about the rest).
    """
    found: Mapping[str, Finding] = {f.key: f for f in findings}
    opened = set(open_keys)
    keep = set(unknown)
    scope = opened if judged is None else opened & set(judged)
    return Transition(
        open=tuple(f for k, f in found.items() if k not in opened),
        refresh=tuple(f for k, f in found.items() if k in opened),
        resolve=tuple(sorted(k for k in scope if k not in found and k not in keep)),
    )
