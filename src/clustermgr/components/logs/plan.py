"""Plan the logs stage of a cluster (pure): facts of every member -> steps per member.

On every server: the follower program at :data:`~.program.FOLLOWER_PATH` (the
manager starts it over SSH to read the server's logs).  On identity nodes: slapd's
log level set to the cluster's (``stats`` unless the cluster asks for another), so
its log says what every LDAP operation did.  A second apply finds every step done.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from clustermgr.components.logs import slapdlog
from clustermgr.components.logs.program import FOLLOWER_MODE, FOLLOWER_PATH
from clustermgr.facts.ldap import ldapmodify_root
from clustermgr.plan.entries import changes
from clustermgr.plan.model import FileChange, Plan, Step
from clustermgr.topology import Role


@dataclass(frozen=True)
class Member:
    hostname: str
    role: Role


@dataclass(frozen=True)
class HostFacts:
    """What the planner needs to know about one member."""

    #: slapd's ``olcLogLevel`` values (identity nodes; None elsewhere).
    slapd_log_level: tuple[str, ...] | None = None


def follower_step(host: str, source: bytes) -> Step:
    return Step(
        host,
        "install the log follower",
        "the manager runs it over SSH to read this server's logs",
        files=(FileChange(FOLLOWER_PATH, source, mode=FOLLOWER_MODE),),
        unchanged_reason=f"{FOLLOWER_PATH} is this version's follower",
    )


def log_level_step(host: str, current: tuple[str, ...], level: str) -> Step:
    ldif = slapdlog.set_log_level(level)
    known = {slapdlog.CONFIG_DN: {"olcloglevel": list(current)}}
    return Step(
        host,
        "set slapd's log level",
        f"{level}: the cluster's level for slapd's log",
        commands=(ldapmodify_root(ldif.encode()),),
        entries=changes(ldif, known),
        check=slapdlog.has_log_level(level),
        verify=slapdlog.has_log_level(level),
        unchanged_reason=f"slapd logs at {level}",
    )


def plan_logs(
    cluster: str,
    members: Sequence[Member],
    facts: Mapping[str, HostFacts],
    *,
    follower: bytes,
    slapd_log_level: str,
) -> Plan:
    """Every reachable member's steps (a member without facts is left out: the caller
    reports it)."""
    steps: list[Step] = []
    for member in members:
        fact = facts.get(member.hostname)
        if fact is None:
            continue
        steps.append(follower_step(member.hostname, follower))
        if member.role is Role.IDENTITY and fact.slapd_log_level is not None:
            steps.append(log_level_step(member.hostname, fact.slapd_log_level, slapd_log_level))
    return Plan(f"log collection of cluster {cluster}", tuple(steps))
