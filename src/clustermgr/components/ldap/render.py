"""Pure renderers of the cn=config changes, as LDIF for ``ldapmodify`` over ldapi:///.

Nothing here reads or writes a server.  Values that hold the replicator's
password come back as :class:`Secret` so they can only travel as a command's
standard input, never in its arguments or in a log.  Host names and the
password are checked against their allow-lists (:mod:`clustermgr.validation`)
before they are written.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Sequence

from clustermgr.components.ldap.ids import rid_for
from clustermgr.components.ldap.model import (
    ACCESSLOG_DIR,
    ACCESSLOG_SUFFIX,
    LDAP_PORT,
    PEERCRED_ROOT,
    REPLICATOR_DN,
    SUFFIX,
    TLS_CA_FILE,
    Member,
    ReplicationSettings,
)
from clustermgr.redact import Secret
from clustermgr.validation import HOSTNAME, checked, checked_secret

ACCESSLOG_INDEXES = ("default eq", "entryCSN,objectClass,reqEnd,reqResult,reqStart,reqDN")
LOG_FILTER = "(&(objectClass=auditWriteObject)(reqResult=0))"


def attr(name: str, value: str) -> str:
    """One LDIF line; values LDIF cannot carry as text are base64 (``name::``)."""
    unsafe = (
        not value.isascii()
        or value[:1] in (" ", ":", "<")
        or value.endswith(" ")
        or any(c in value for c in "\r\n\0")
    )
    if unsafe:
        return f"{name}:: {base64.b64encode(value.encode()).decode()}"
    return f"{name}: {value}"


def _record(dn: str, *lines: str) -> str:
    return "\n".join([attr("dn", dn), *lines]) + "\n"


def _modify(dn: str, op: str, name: str, values: Sequence[str]) -> str:
    return _record(dn, "changetype: modify", f"{op}: {name}", *(attr(name, v) for v in values), "-")


def join(*records: str) -> str:
    return "\n".join(r for r in records if r)


def ssha(password: str, salt: bytes | None = None) -> str:
    """``{SSHA}`` hash for userPassword, as ``slappasswd`` makes."""
    salt = os.urandom(8) if salt is None else salt
    digest = hashlib.sha1(password.encode() + salt).digest()  # noqa: S324 (the SSHA format)
    return "{SSHA}" + base64.b64encode(digest + salt).decode("ascii")


def modules(module_dn: str, missing: Sequence[str]) -> str:
    return _modify(module_dn, "add", "olcModuleLoad", missing) if missing else ""


def replicator_acl() -> str:
    """The replicator reads everything (passwords too); root over ldapi manages."""
    return (
        f'to * by dn.exact="{REPLICATOR_DN}" read by dn.exact="{PEERCRED_ROOT}" manage by * break'
    )


def replicator_limits() -> str:
    return limits_for(REPLICATOR_DN)


def limits_for(dn: str) -> str:
    return f'dn.exact="{dn}" time=unlimited size=unlimited'


#: Who reads all of o=gluu without slapd's size limit (500 entries by default):
#: the replicator (refresh) and root over ldapi (compare, probes, status).
UNLIMITED = (REPLICATOR_DN, PEERCRED_ROOT)


def accesslog_database(index: int, settings: ReplicationSettings) -> str:
    """The accesslog database and its syncprov overlay (delta-syncrepl reads it)."""
    dn = f"olcDatabase={{{index}}}mdb,cn=config"
    database = _record(
        dn,
        "changetype: add",
        "objectClass: olcDatabaseConfig",
        "objectClass: olcMdbConfig",
        f"olcDatabase: {{{index}}}mdb",
        attr("olcSuffix", ACCESSLOG_SUFFIX),
        attr("olcDbDirectory", ACCESSLOG_DIR),
        "olcDbMaxSize: 1073741824",
        *(attr("olcDbIndex", i) for i in ACCESSLOG_INDEXES),
        attr("olcAccess", "{0}" + replicator_acl().replace(" by * break", " by * none")),
        attr("olcLimits", "{0}" + replicator_limits()),
    )
    overlay = _record(
        f"olcOverlay=syncprov,{dn}",
        "changetype: add",
        "objectClass: olcOverlayConfig",
        "objectClass: olcSyncProvConfig",
        "olcOverlay: syncprov",
        "olcSpNoPresent: TRUE",
        "olcSpReloadHint: TRUE",
    )
    return join(database, overlay)


def main_overlays(
    db_dn: str, *, syncprov: bool, accesslog: bool, settings: ReplicationSettings
) -> str:
    """syncprov, then accesslog, on the directory's database (those missing)."""
    records = []
    if syncprov:
        records.append(
            _record(
                f"olcOverlay=syncprov,{db_dn}",
                "changetype: add",
                "objectClass: olcOverlayConfig",
                "objectClass: olcSyncProvConfig",
                "olcOverlay: syncprov",
                "olcSpCheckpoint: 100 10",
                "olcSpSessionLog: 10000",
            )
        )
    if accesslog:
        records.append(
            _record(
                f"olcOverlay=accesslog,{db_dn}",
                "changetype: add",
                "objectClass: olcOverlayConfig",
                "objectClass: olcAccessLogConfig",
                "olcOverlay: accesslog",
                attr("olcAccessLogDB", ACCESSLOG_SUFFIX),
                "olcAccessLogOps: writes",
                "olcAccessLogSuccess: TRUE",
                attr("olcAccessLogPurge", f"{settings.purge_age} {settings.purge_interval}"),
            )
        )
    return join(*records)


def main_access(db_dn: str, *, acl: bool, limits: Sequence[str]) -> str:
    """The replicator's ACL (first) and unlimited searches for ``limits`` (DNs)."""
    records = []
    if acl:
        records.append(_modify(db_dn, "add", "olcAccess", ["{0}" + replicator_acl()]))
    if limits:
        values = ["{0}" + limits_for(dn) for dn in limits]
        records.append(_modify(db_dn, "add", "olcLimits", values))
    return join(*records)


def _host(member: Member) -> str:
    return checked(HOSTNAME, member.hostname)


def _url(member: Member) -> str:
    _host(member)
    return member.url


def server_ids(members: Sequence[Member]) -> str:
    ordered = sorted(members, key=lambda m: m.server_id)
    values = [f"{m.server_id} {_url(m)}" for m in ordered]
    return _modify("cn=config", "replace", "olcServerID", values)


def provider_url(member: Member) -> str:
    return f"ldap://{_host(member)}:{LDAP_PORT}"


def syncrepl_value(peer: Member, password: Secret, settings: ReplicationSettings) -> str:
    checked_secret(password)
    return (
        f"rid={rid_for(peer.server_id):03d} provider={provider_url(peer)} bindmethod=simple "
        f'binddn="{REPLICATOR_DN}" credentials="{password.reveal()}" '
        f'searchbase="{SUFFIX}" logbase="{ACCESSLOG_SUFFIX}" logfilter="{LOG_FILTER}" '
        f'schemachecking=on type=refreshAndPersist retry="{settings.retry}" syncdata=accesslog '
        f'starttls=critical tls_reqcert=demand tls_cacert="{TLS_CA_FILE}"'
    )


def syncrepl_check_tokens(
    peer: Member, password: Secret, settings: ReplicationSettings
) -> list[str]:
    """The tokens of :func:`syncrepl_value` that slapd gives back unchanged."""
    return [
        f"rid={rid_for(peer.server_id):03d}",
        f"provider={provider_url(peer)}",
        "bindmethod=simple",
        f"binddn={REPLICATOR_DN}",
        f"credentials={password.reveal()}",
        f"searchbase={SUFFIX}",
        f"logbase={ACCESSLOG_SUFFIX}",
        "type=refreshAndPersist",
        f"retry={settings.retry}",
        "syncdata=accesslog",
        "starttls=critical",
        "tls_reqcert=demand",
        f"tls_cacert={TLS_CA_FILE}",
    ]


def agreements(
    db_dn: str, peers: Sequence[Member], password: Secret, settings: ReplicationSettings
) -> Secret:
    """olcSyncrepl (one per peer) and olcMultiProvider, in one modify: slapd wants both."""
    values = [
        f"{{{i}}}{syncrepl_value(p, password, settings)}"
        for i, p in enumerate(sorted(peers, key=lambda p: p.server_id))
    ]
    text = _record(
        db_dn,
        "changetype: modify",
        "replace: olcSyncrepl",
        *(attr("olcSyncrepl", v) for v in values),
        "-",
        "replace: olcMultiProvider",
        "olcMultiProvider: TRUE",
        "-",
    )
    return Secret(text, label="olcSyncrepl")


def detach(db_dn: str) -> str:
    """No agreement, no multi-provider: a node that stops replicating until it is reloaded."""
    return _record(
        db_dn,
        "changetype: modify",
        "replace: olcMultiProvider",
        "-",
        "replace: olcSyncrepl",
        "-",
    )


def replicator_entry(password: Secret, salt: bytes | None = None) -> Secret:
    text = _record(
        REPLICATOR_DN,
        "changetype: add",
        "objectClass: top",
        "objectClass: organizationalRole",
        "objectClass: simpleSecurityObject",
        "cn: replicator",
        "description: OpenLDAP replication (clustermgr)",
        attr("userPassword", ssha(password.reveal(), salt)),
    )
    return Secret(text, label="replicator entry")


def replicator_password_change(password: Secret) -> Secret:
    return Secret(
        _modify(REPLICATOR_DN, "replace", "userPassword", [ssha(password.reveal())]),
        label="replicator password",
    )


def ox_ldap_servers(self_: Member, peers: Sequence[Member]) -> list[str]:
    """``host:port`` for ox-ldap.properties: this node first, then its peers (by id)."""
    ordered = [self_, *sorted(peers, key=lambda p: p.server_id)]
    return [f"{_host(m)}:{LDAP_PORT}" for m in ordered]


def ox_ldap_properties(current: str, servers: Sequence[str]) -> str:
    """``current`` with its ``servers:`` line set (added when missing); the rest kept."""
    wanted = f"servers: {','.join(servers)}"
    lines = current.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^\s*servers\s*[:=]", line):
            lines[i] = wanted
            break
    else:
        lines.append(wanted)
    return "\n".join(lines) + "\n"
