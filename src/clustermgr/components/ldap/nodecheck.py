"""One LDAP node as the watcher sees it: reached over SSH, slapd answering, each agreement.

The node runs :mod:`clustermgr.components.ldap.agreementcheck` itself (one SSH
command per node and cycle); this module sends it, bounds it with the watcher's
short timeouts and parses its answer.  An SSH failure or a timeout means the
node is unreachable (its connection is dropped, so the next cycle reconnects);
an ldapi search that fails means slapd is down.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from clustermgr.components.ldap import agreementcheck
from clustermgr.components.ldap.model import SUFFIX
from clustermgr.core.access import HostAccess
from clustermgr.errors import ClustermgrError, CommandTimeout, HostUnreachable
from clustermgr.facts.ldap import context_csn_by_id
from clustermgr.facts.ldif import node_script
from clustermgr.monitor.watching import forget_host
from clustermgr.remote.command import Command

AGREEMENT_CHECK_SOURCE = node_script(agreementcheck)


class NodeState(StrEnum):
    OK = "ok"
    #: SSH works, slapd does not answer on ldapi.
    SLAPD_DOWN = "slapd-down"
    #: No SSH session within the timeout (stopped, partitioned, refused).
    UNREACHABLE = "unreachable"
    #: SSH works but the check could not run (login refused, no python3...).
    ERROR = "error"


class AgreementState(StrEnum):
    OK = "ok"
    UNREACHABLE = "unreachable"
    TLS = "tls"
    CREDENTIALS = "credentials"
    ERROR = "error"


@dataclass(frozen=True)
class Agreement:
    """One olcSyncrepl of a consumer, checked from the consumer."""

    provider: str
    rid: str
    state: AgreementState
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {
            "provider": self.provider,
            "rid": self.rid,
            "state": self.state.value,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class NodeCheck:
    host: str
    state: NodeState
    reason: str = ""
    #: server id (hex) -> contextCSN
    context_csn: dict[str, str] = field(default_factory=dict)
    agreements: tuple[Agreement, ...] = ()
    seconds: float = 0.0
    #: The technical record behind ``reason`` (the command that failed, its stderr).
    details: str = ""


def parse_node_check(host: str, stdout: str, seconds: float = 0.0) -> NodeCheck:
    """The node script's JSON answer; raises ValueError on anything else."""
    data: dict[str, Any] = json.loads(stdout)
    if data.get("slapd") != "ok":
        return NodeCheck(host, NodeState.SLAPD_DOWN, str(data.get("reason", "")), seconds=seconds)
    agreements = tuple(
        Agreement(
            provider=urlsplit(str(a["provider"])).hostname or str(a["provider"]),
            rid=str(a["rid"]),
            state=AgreementState(a["state"]),
            reason=str(a.get("reason", "")),
        )
        for a in data.get("agreements", [])
    )
    csns = context_csn_by_id(str(v) for v in data.get("context_csn", []))
    return NodeCheck(host, NodeState.OK, "", csns, agreements, seconds)


def node_check_command(agreement_timeout: float) -> Command:
    spec = json.dumps({"suffix": SUFFIX, "timeout": agreement_timeout}).encode()
    return Command.of("python3", "-c", AGREEMENT_CHECK_SOURCE, stdin=spec)


async def check_node(
    access: HostAccess, host: str, *, timeout: float, agreement_timeout: float
) -> NodeCheck:
    """The node's state within ``timeout`` seconds, whatever happens on the way."""
    started = time.monotonic()
    command = node_check_command(agreement_timeout)

    async def ask() -> str:
        conn = await access.connection(host)
        return (await conn.run(command, timeout=timeout)).check().stdout

    try:
        # The server stops the command at ``timeout``; a second more covers the
        # round trip, and an SSH session that hangs (a partition) ends here too.
        stdout = await asyncio.wait_for(ask(), timeout + 1)
    except (TimeoutError, HostUnreachable, CommandTimeout) as exc:
        await forget_host(access, host)
        late = f"no SSH answer within {timeout + 1:g} s"
        if isinstance(exc, ClustermgrError):
            return NodeCheck(host, NodeState.UNREACHABLE, exc.message, details=exc.details or "")
        return NodeCheck(host, NodeState.UNREACHABLE, late)
    except ClustermgrError as exc:
        await forget_host(access, host)
        return NodeCheck(host, NodeState.ERROR, exc.message, details=exc.details or "")
    elapsed = round(time.monotonic() - started, 3)
    try:
        return parse_node_check(host, stdout, elapsed)
    except (ValueError, KeyError, TypeError) as exc:
        reason = f"the node check answered something unexpected: {type(exc).__name__}"
        return NodeCheck(host, NodeState.ERROR, reason, seconds=elapsed)
