"""Plan replication on every identity node (pure): facts in, idempotent steps out.

Every step carries a check that reads cn=config back on the node, so a second
apply reports only ``unchanged``, and the cn=config entries its LDIF changes, as
the facts show them now and as they will be (:mod:`clustermgr.plan.entries`), for
the plan to show.  slapd applies each ``ldapmodify`` atomically
and refuses a change it cannot use: a refused step leaves the node's previous
configuration (and its replication) as it was.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clustermgr.components.ldap import hostcheck, reload, render
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
from clustermgr.components.ldap.preview import known_entries
from clustermgr.facts.ldap import SlapdConfig, ldapmodify_root, root_script
from clustermgr.facts.ldif import node_script, strip_order, tokens
from clustermgr.facts.services import ServiceControl
from clustermgr.plan.entries import Known, changes
from clustermgr.plan.model import FileChange, Plan, Step
from clustermgr.redact import Secret
from clustermgr.remote.command import Command
from clustermgr.words import count

HOSTCHECK_SOURCE = node_script(hostcheck)


@dataclass(frozen=True)
class LdapFacts:
    config: SlapdConfig
    #: ox-ldap.properties, or None when the node has none.
    properties: str | None
    #: How the node starts and stops slapd.
    services: ServiceControl


def check(*specs: dict[str, Any], secret: bool = False) -> Command:
    """The node reads cn=config back and compares (see :mod:`hostcheck`)."""
    text = json.dumps(list(specs))
    stdin: bytes | Secret = Secret(text, label="check") if secret else text.encode()
    return Command.of("python3", "-c", HOSTCHECK_SOURCE, stdin=stdin)


def _want(base: str, attr: str, want: Sequence[Sequence[str]], **extra: Any) -> dict[str, Any]:
    return {"base": base, "attr": attr, "want": [list(w) for w in want], **extra}


def own_server_id(config: SlapdConfig, url: str) -> int | None:
    """The server id ``config`` gives the node at ``url`` (its olcServerID), if any."""
    for value in config.server_ids:
        parts = strip_order(value).split()
        if len(parts) == 2 and parts[1].rstrip("/").lower() == url.rstrip("/").lower():
            try:
                return int(parts[0], 0)
            except ValueError:
                return None
    return None


def stale(member: Member, fact: LdapFacts | None) -> bool:
    """A node replicating under another server id than the inventory gives it.

    The inventory gives a server that was removed and added back a new id
    (:mod:`ids`), while the node itself still replicates as it did before it
    left: its data is whatever it had then plus what it wrote alone since.
    Merging that into the cluster would bring back what was deleted meanwhile
    and spread writes nobody else saw, so such a node is reloaded as if new.
    """
    main = fact.config.database(SUFFIX) if fact else None
    if fact is None or main is None or not main.multi_provider:
        return False
    return own_server_id(fact.config, member.url) != member.server_id


def source_of(rep: Replication, facts: Mapping[str, LdapFacts]) -> Member:
    """The node others copy o=gluu from: the lowest id already replicating, else the lowest."""
    ordered = sorted(rep.members, key=lambda m: m.server_id)
    for member in ordered:
        fact = facts.get(member.hostname)
        main = fact.config.database(SUFFIX) if fact else None
        if main is not None and main.multi_provider and not stale(member, fact):
            return member
    return ordered[0]


def joining(rep: Replication, facts: Mapping[str, LdapFacts]) -> list[Member]:
    """Members that do not replicate yet (or are stale) and are not the source.

    Their o=gluu is replaced.  Directories loaded independently hold the same
    DNs under other entryUUIDs; syncrepl's refresh would delete one side's
    entries.  A joining node gets the source's data first (TOPOLOGY: never
    let a stale peer repopulate).
    """
    source = source_of(rep, facts)
    out = []
    for member in rep.members:
        fact = facts.get(member.hostname)
        main = fact.config.database(SUFFIX) if fact else None
        if member == source or main is None:
            continue
        if not main.multi_provider or stale(member, fact):
            out.append(member)
    return out


def plan_prepare(cluster: str, rep: Replication, facts: Mapping[str, LdapFacts]) -> Plan:
    """Phase 1: modules, accesslog, overlays, access, replicator, server ids."""
    source = source_of(rep, facts)
    steps: list[Step] = []
    for member in rep.members:
        fact = facts.get(member.hostname)
        if fact is not None:
            steps.extend(prepare_steps(member, rep, fact, source=member == source))
    return Plan(f"LDAP replication of cluster {cluster}: prepare", tuple(steps))


def plan_join(
    cluster: str, rep: Replication, facts: Mapping[str, LdapFacts], export: bytes
) -> Plan:
    """Phase 2: joining nodes load the source's o=gluu (all of them before any agreement)."""
    steps = []
    for member in joining(rep, facts):
        fact = facts[member.hostname]
        config = fact.config
        main, log = config.database(SUFFIX), config.database(ACCESSLOG_SUFFIX)
        assert main is not None
        step = reload.load_step(
            member.hostname,
            main.directory or "",
            export,
            fact.services,
            title=f"load {SUFFIX} from the replicating source",
            reason="a joining node starts from the source's entries (same entryUUIDs)",
            accesslog=log.directory if log else None,
            check=check(_want(main.dn, "olcMultiProvider", [["TRUE"]], scope="base")),
            unchanged_reason="already replicating",
        )
        steps.append(step)
    return Plan(f"LDAP replication of cluster {cluster}: join", tuple(steps))


def plan_agreements(cluster: str, rep: Replication, facts: Mapping[str, LdapFacts]) -> Plan:
    """Phase 3: agreements, multi-provider, and ox-ldap.properties."""
    steps: list[Step] = []
    for member in rep.members:
        fact = facts.get(member.hostname)
        main = fact.config.database(SUFFIX) if fact else None
        if fact is None or main is None:
            continue
        steps.append(_agreements(member.hostname, main.dn, rep, known_entries(fact.config)))
        if fact.properties is not None:
            steps.append(_properties(member, rep, fact.properties))
    return Plan(f"LDAP replication of cluster {cluster}: agreements", tuple(steps))


def plan_ldap(cluster: str, rep: Replication, facts: Mapping[str, LdapFacts]) -> Plan:
    """Every phase in one plan: what ``ldap plan`` shows."""
    phases = (
        plan_prepare(cluster, rep, facts),
        plan_join(cluster, rep, facts, b""),
        plan_agreements(cluster, rep, facts),
    )
    steps = tuple(s for p in phases for s in p.steps)
    return Plan(f"LDAP replication of cluster {cluster}", steps)


def prepare_steps(member: Member, rep: Replication, fact: LdapFacts, *, source: bool) -> list[Step]:
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
    known = known_entries(config)
    steps = [_detach(host, main.dn, config, known)] if stale(member, fact) else []
    steps += [
        _modules(host, config, known),
        _accesslog(host, config, rep),
        _overlays(host, main.dn, main.overlays, rep),
        _access(host, main.dn, main.access, main.limits, known),
    ]
    if source:
        steps.append(_replicator(host, rep.password))
    steps.append(_server_ids(host, rep, known))
    return steps


def _detach(host: str, db_dn: str, config: SlapdConfig, known: Known) -> Step:
    old = ", ".join(config.server_ids) or "none"
    ldif = render.detach(db_dn)
    return Step(
        host,
        "stop replicating with the old membership",
        f"the node left the cluster and came back (its server ids: {old}); "
        "it is reloaded from the source before it replicates again",
        commands=(ldapmodify_root(ldif.encode()),),
        entries=changes(ldif, known),
        check=check(
            _want(db_dn, "olcMultiProvider", [], scope="base", exact=True),
            _want(db_dn, "olcSyncrepl", [], scope="base", exact=True),
        ),
        unchanged_reason="not replicating",
    )


def _modules(host: str, config: SlapdConfig, known: Known) -> Step:
    missing = [m for m in MODULES if m not in config.modules]
    module_dn = config.module_dn or "cn=module{0},cn=config"
    ldif = render.modules(module_dn, missing or MODULES)
    return Step(
        host,
        "load the syncprov and accesslog modules",
        f"missing: {', '.join(missing)}" if missing else "replication needs them",
        commands=(ldapmodify_root(ldif.encode()),),
        entries=changes(ldif, known),
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
    ldif = render.accesslog_database(index, rep.settings)
    return Step(
        host,
        "create the accesslog database",
        "delta-syncrepl replays the log of writes",
        commands=(
            Command.of(
                "install", "-d", "-o", "openldap", "-g", "openldap", "-m", "0700", ACCESSLOG_DIR
            ),
            ldapmodify_root(ldif.encode()),
        ),
        entries=changes(ldif, {}),
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
        commands=(ldapmodify_root(ldif.encode()),),
        entries=changes(ldif, {}),
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


def _access(
    host: str, db_dn: str, access: Sequence[str], limits: Sequence[str], known: Known
) -> Step:
    acl = render.replicator_acl()
    want_acl = sorted(tokens("olcAccess", acl))
    want_limits = {dn: [f"dn.exact={dn}"] for dn in render.UNLIMITED}
    has_acl = any(set(want_acl) <= tokens("olcAccess", a) for a in access)
    missing = [
        dn
        for dn, want in want_limits.items()
        if not any(set(want) <= tokens("olcLimits", v) for v in limits)
    ]
    ldif = render.main_access(db_dn, acl=not has_acl, limits=missing) or render.main_access(
        db_dn, acl=True, limits=render.UNLIMITED
    )
    return Step(
        host,
        f"let the replicator read {SUFFIX}",
        "consumers copy whole entries, passwords too; the replicator and root over ldapi "
        "search without size limits",
        commands=(ldapmodify_root(ldif.encode()),),
        entries=changes(ldif, known),
        check=check(
            _want(db_dn, "olcAccess", [want_acl], scope="base"),
            _want(db_dn, "olcLimits", list(want_limits.values()), scope="base"),
        ),
        unchanged_reason="the replicator's access and the search limits are set",
    )


_REPLICATOR_SCRIPT = """\
set -e
ldif=$(cat)
ldapdelete $LDAPI "$1" 2>/dev/null || true
printf '%s\\n' "$ldif" | ldapmodify $LDAPI
"""


def _replicator(host: str, password: Secret) -> Step:
    entry = render.replicator_entry(password)
    return Step(
        host,
        "create the replicator account",
        f"consumers bind as {REPLICATOR_DN}, not as the directory manager",
        commands=(root_script(_REPLICATOR_SCRIPT, REPLICATOR_DN, stdin=entry),),
        entries=changes(entry, {}),
        check=Command.of(
            "ldapwhoami", "-x", "-H", LDAPI, "-D", REPLICATOR_DN, "-y", "/dev/stdin", stdin=password
        ),
        unchanged_reason="the replicator binds with its password",
    )


def _server_ids(host: str, rep: Replication, known: Known) -> Step:
    ldif = render.server_ids(rep.members)
    return Step(
        host,
        "set the server IDs",
        ", ".join(f"{m.server_id} {m.hostname}" for m in rep.members),
        commands=(ldapmodify_root(ldif.encode()),),
        entries=changes(ldif, known),
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


_STANDALONE = """\
set -e
for attribute in olcMultiProvider olcSyncrepl; do
  printf 'dn: %s\\nchangetype: modify\\ndelete: %s\\n' "$1" "$attribute" |
    ldapmodify $LDAPI >/dev/null || [ $? = 16 ]  # 16: had none
done
"""


def _agreements(host: str, db_dn: str, rep: Replication, known: Known) -> Step:
    peers = rep.peers(host)
    if not peers:
        # slapd accepts multi-provider only with an agreement: a lone node has neither,
        # and becomes the source when a second node joins.
        return Step(
            host,
            "set the replication agreements",
            "the only identity node: no peer to replicate from",
            commands=(root_script(_STANDALONE, db_dn),),
            entries=changes(render.detach(db_dn), known),
            check=check(
                _want(db_dn, "olcSyncrepl", [], scope="base", exact=True),
                _want(db_dn, "olcMultiProvider", [], scope="base", exact=True),
            ),
            unchanged_reason="no agreement, as the only identity node",
        )
    want = [render.syncrepl_check_tokens(p, rep.password, rep.settings) for p in peers]
    ldif = render.agreements(db_dn, peers, rep.password, rep.settings)
    return Step(
        host,
        "set the replication agreements",
        f"multi-provider with {', '.join(p.hostname for p in peers) or 'no peer'}",
        commands=(ldapmodify_root(ldif),),
        entries=changes(ldif, known),
        check=check(
            _want(db_dn, "olcSyncrepl", want, scope="base", exact=True),
            _want(db_dn, "olcMultiProvider", [["TRUE"]], scope="base"),
            secret=True,
        ),
        unchanged_reason=f"replicating from {count(len(peers), 'peer')}",
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
