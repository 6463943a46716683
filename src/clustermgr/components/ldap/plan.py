"""Plan replication on every identity node (pure): facts in, idempotent steps out.

Every step carries a check that reads cn=config back on the node, so a second
apply reports only ``unchanged``.  slapd applies each ``ldapmodify`` atomically
and refuses a change it cannot use: a refused step leaves the node's previous
configuration (and its replication) as it was.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clustermgr.components.ldap import hostcheck, render
from clustermgr.components.ldap.model import (
    ACCESSLOG_DIR,
    ACCESSLOG_SUFFIX,
    LDAPI,
    MODULES,
    OX_LDAP_PROPERTIES,
    REPLICATOR_DN,
    SUFFIX,
    Member,
    Replication,
)
from clustermgr.facts.ldap import SlapdConfig
from clustermgr.plan.model import FileChange, Plan, Step
from clustermgr.redact import Secret
from clustermgr.remote.command import Command

HOSTCHECK_SOURCE = inspect.getsource(hostcheck)


@dataclass(frozen=True)
class LdapFacts:
    config: SlapdConfig
    #: ox-ldap.properties, or None when the node has none.
    properties: str | None


def ldapmodify(ldif: bytes | Secret) -> Command:
    return Command.of("ldapmodify", "-Q", "-Y", "EXTERNAL", "-H", LDAPI, stdin=ldif)


def check(*specs: dict[str, Any], secret: bool = False) -> Command:
    """The node reads cn=config back and compares (see :mod:`hostcheck`)."""
    text = json.dumps(list(specs))
    stdin: bytes | Secret = Secret(text, label="check") if secret else text.encode()
    return Command.of("python3", "-c", HOSTCHECK_SOURCE, stdin=stdin)


def _want(base: str, attr: str, want: Sequence[Sequence[str]], **extra: Any) -> dict[str, Any]:
    return {"base": base, "attr": attr, "want": [list(w) for w in want], **extra}


def plan_ldap(
    cluster: str, replication: Replication, facts: Mapping[str, LdapFacts], first: str
) -> Plan:
    steps: list[Step] = []
    for member in replication.members:
        fact = facts.get(member.hostname)
        if fact is not None:
            steps.extend(node_steps(member, replication, fact, first=member.hostname == first))
    return Plan(f"LDAP replication of cluster {cluster}", tuple(steps))


def node_steps(member: Member, rep: Replication, fact: LdapFacts, *, first: bool) -> list[Step]:
    config = fact.config
    main = config.database(SUFFIX)
    host = member.hostname
    if main is None:
        return [
            Step(
                host,
                f"find the {SUFFIX} database",
                f"replication needs {SUFFIX}",
                commands=(Command.of("false"),),
                warnings=(f"{host} has no database for {SUFFIX}",),
            )
        ]
    steps = [
        _modules(host, config),
        _accesslog(host, config, rep),
        _overlays(host, main.dn, main.overlays, rep),
    ]
    steps.append(_access(host, main.dn, main.access, main.limits))
    if first:
        steps.append(_replicator(host, rep.password))
    steps.append(_server_ids(host, rep))
    steps.append(_agreements(host, main.dn, rep))
    if fact.properties is not None:
        steps.append(_properties(member, rep, fact.properties))
    return steps


def _modules(host: str, config: SlapdConfig) -> Step:
    missing = [m for m in MODULES if m not in config.modules]
    module_dn = config.module_dn or "cn=module{0},cn=config"
    return Step(
        host,
        "load the syncprov and accesslog modules",
        f"missing: {', '.join(missing)}" if missing else "replication needs them",
        commands=(ldapmodify(render.modules(module_dn, missing or MODULES).encode()),),
        check=check(
            _want(
                "cn=config",
                "olcModuleLoad",
                [[m] for m in MODULES],
                filter="(objectClass=olcModuleList)",
            )
        ),
        unchanged_reason="syncprov and accesslog are loaded",
    )


def _accesslog(host: str, config: SlapdConfig, rep: Replication) -> Step:
    existing = config.database(ACCESSLOG_SUFFIX)
    index = existing.index if existing else config.next_index
    return Step(
        host,
        "create the accesslog database",
        "delta-syncrepl replays the log of writes",
        commands=(
            Command.of(
                "install", "-d", "-o", "openldap", "-g", "openldap", "-m", "0700", ACCESSLOG_DIR
            ),
            ldapmodify(render.accesslog_database(index, rep.settings).encode()),
        ),
        check=check(
            _want(
                "cn=config", "olcSuffix", [[ACCESSLOG_SUFFIX]], filter="(objectClass=olcMdbConfig)"
            )
        ),
        unchanged_reason=f"{ACCESSLOG_SUFFIX} exists",
    )


def _overlays(host: str, db_dn: str, present: frozenset[str], rep: Replication) -> Step:
    syncprov, accesslog = "syncprov" not in present, "accesslog" not in present
    if not (syncprov or accesslog):  # the check decides; render both should it fail
        syncprov = accesslog = True
    ldif = render.main_overlays(
        db_dn, syncprov=syncprov, accesslog=accesslog, settings=rep.settings
    )
    return Step(
        host,
        f"add the syncprov and accesslog overlays to {SUFFIX}",
        "providers serve changes from the log",
        commands=(ldapmodify(ldif.encode()),),
        check=check(
            _want(
                db_dn,
                "olcOverlay",
                [["syncprov"], ["accesslog"]],
                scope="one",
                filter="(objectClass=olcOverlayConfig)",
            )
        ),
        unchanged_reason="syncprov and accesslog are on the directory",
    )


def _access(host: str, db_dn: str, access: Sequence[str], limits: Sequence[str]) -> Step:
    acl = render.replicator_acl()
    want_acl = sorted(hostcheck.tokens("olcAccess", acl))
    want_limit = [f"dn.exact={REPLICATOR_DN}"]
    has_acl = any(set(want_acl) <= hostcheck.tokens("olcAccess", a) for a in access)
    has_limit = any(set(want_limit) <= hostcheck.tokens("olcLimits", v) for v in limits)
    ldif = render.main_access(db_dn, acl=not has_acl, limits=not has_limit) or render.main_access(
        db_dn, acl=True, limits=True
    )
    return Step(
        host,
        f"let the replicator read {SUFFIX}",
        "consumers copy whole entries, passwords too, without size limits",
        commands=(ldapmodify(ldif.encode()),),
        check=check(
            _want(db_dn, "olcAccess", [want_acl], scope="base"),
            _want(db_dn, "olcLimits", [want_limit], scope="base"),
        ),
        unchanged_reason="the replicator's access and limits are set",
    )


_REPLICATOR_SCRIPT = """\
set -e
ldif=$(cat)
ldapdelete -Q -Y EXTERNAL -H ldapi:/// "$1" 2>/dev/null || true
printf '%s\\n' "$ldif" | ldapmodify -Q -Y EXTERNAL -H ldapi:///
"""


def _replicator(host: str, password: Secret) -> Step:
    return Step(
        host,
        "create the replicator account",
        f"consumers bind as {REPLICATOR_DN}, not as the directory manager",
        commands=(
            Command.script(
                _REPLICATOR_SCRIPT, REPLICATOR_DN, stdin=render.replicator_entry(password)
            ),
        ),
        check=Command.of(
            "ldapwhoami", "-x", "-H", LDAPI, "-D", REPLICATOR_DN, "-y", "/dev/stdin", stdin=password
        ),
        unchanged_reason="the replicator binds with its password",
    )


def _server_ids(host: str, rep: Replication) -> Step:
    return Step(
        host,
        "set the server IDs",
        ", ".join(f"{m.server_id} {m.hostname}" for m in rep.members),
        commands=(ldapmodify(render.server_ids(rep.members).encode()),),
        check=check(
            _want(
                "cn=config",
                "olcServerID",
                [[str(m.server_id), m.url] for m in rep.members],
                scope="base",
                exact=True,
            )
        ),
        unchanged_reason="every member has its server ID",
    )


def _agreements(host: str, db_dn: str, rep: Replication) -> Step:
    peers = rep.peers(host)
    want = [render.syncrepl_check_tokens(p, rep.password, rep.settings) for p in peers]
    return Step(
        host,
        "set the replication agreements",
        f"multi-provider with {', '.join(p.hostname for p in peers) or 'no peer'}",
        commands=(ldapmodify(render.agreements(db_dn, peers, rep.password, rep.settings)),),
        check=check(
            _want(db_dn, "olcSyncrepl", want, scope="base", exact=True),
            _want(db_dn, "olcMultiProvider", [["TRUE"]], scope="base"),
            secret=True,
        ),
        unchanged_reason=f"replicating from {len(peers)} peers",
    )


def _properties(member: Member, rep: Replication, current: str) -> Step:
    servers = render.ox_ldap_servers(member, rep.peers(member.hostname))
    content = render.ox_ldap_properties(current, servers)
    return Step(
        member.hostname,
        f"list the directory servers in {OX_LDAP_PROPERTIES}",
        "the identity app tries this node first, then its peers",
        files=(FileChange(OX_LDAP_PROPERTIES, content.encode(), mode=0o600, sensitive=True),),
    )
