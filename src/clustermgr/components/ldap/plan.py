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


def source_of(rep: Replication, facts: Mapping[str, LdapFacts]) -> Member:
    """The node others copy o=gluu from: the lowest id already replicating, else the lowest."""
    ordered = sorted(rep.members, key=lambda m: m.server_id)
    for member in ordered:
        fact = facts.get(member.hostname)
        main = fact.config.database(SUFFIX) if fact else None
        if main is not None and main.multi_provider:
            return member
    return ordered[0]


def joining(rep: Replication, facts: Mapping[str, LdapFacts]) -> list[Member]:
    """Members that do not replicate yet and are not the source: their o=gluu is replaced.

    Directories loaded independently hold the same DNs under other entryUUIDs;
    syncrepl's refresh would delete one side's entries.  A joining node gets
    the source's data first (TOPOLOGY: never let a stale peer repopulate).
    """
    source = source_of(rep, facts)
    out = []
    for member in rep.members:
        fact = facts.get(member.hostname)
        main = fact.config.database(SUFFIX) if fact else None
        if member != source and main is not None and not main.multi_provider:
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
        main = facts[member.hostname].config.database(SUFFIX)
        assert main is not None
        steps.append(_reload(member.hostname, main.directory or "", export, main.dn))
    return Plan(f"LDAP replication of cluster {cluster}: join", tuple(steps))


def plan_agreements(cluster: str, rep: Replication, facts: Mapping[str, LdapFacts]) -> Plan:
    """Phase 3: agreements, multi-provider, and ox-ldap.properties."""
    steps: list[Step] = []
    for member in rep.members:
        fact = facts.get(member.hostname)
        main = fact.config.database(SUFFIX) if fact else None
        if fact is None or main is None:
            continue
        steps.append(_agreements(member.hostname, main.dn, rep))
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
    steps = [
        _modules(host, config),
        _accesslog(host, config, rep),
        _overlays(host, main.dn, main.overlays, rep),
        _access(host, main.dn, main.access, main.limits),
    ]
    if source:
        steps.append(_replicator(host, rep.password))
    steps.append(_server_ids(host, rep))
    return steps


_RELOAD = """\
set -e
dir="$1"; ldif="$1.clustermgr-join.ldif"
umask 077; cat > "$ldif"
service slapd stop >/dev/null 2>&1 || true
rm -rf "$dir.clustermgr-prev"; mv "$dir" "$dir.clustermgr-prev"; mkdir -p "$dir"
ok=1; slapadd -q -b "$2" -l "$ldif" || ok=0
if [ "$ok" = 0 ]; then rm -rf "$dir"; mv "$dir.clustermgr-prev" "$dir"; fi
rm -f "$ldif"
chown -R openldap:openldap "$dir"
install -d -o openldap -g openldap /var/run/slapd
service slapd start >/dev/null
[ "$ok" = 1 ]
"""


def _reload(host: str, directory: str, export: bytes, db_dn: str) -> Step:
    return Step(
        host,
        f"load {SUFFIX} from the replicating source",
        "a joining node starts from the source's entries (same entryUUIDs)",
        commands=(Command.script(_RELOAD, directory, SUFFIX, stdin=export),),
        check=check(_want(db_dn, "olcMultiProvider", [["TRUE"]], scope="base")),
        unchanged_reason="already replicating",
        # Agreements come in the next phase: here the reloaded directory must serve.
        verify=Command.script(
            'for i in $(seq 50); do ldapsearch -Q -Y EXTERNAL -H ldapi:/// -b "$1" -s base dn '
            ">/dev/null 2>&1 && exit 0; sleep 0.2; done; exit 1",
            SUFFIX,
        ),
    )


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
