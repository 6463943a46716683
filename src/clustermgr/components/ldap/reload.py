"""Load a node's ``o=gluu`` from another node's export (pure: steps out, no I/O).

Used when a node joins replication (:func:`plan.plan_join`) and when it is
re-initialised from a healthy peer (``ldap reinit``).  One step: stop slapd,
move the directory and the accesslog database aside (kept as a backup),
``slapadd`` the export into an empty directory, start slapd, check that it
serves.  Any failure, the verification included, runs the rollback: the
previous directories go back and slapd starts on them, so nothing is lost.
``ldap reinit`` removes the backup once the node has converged; after a join
it stays until the node's next load.

Why the accesslog is emptied too: with delta-syncrepl a peer asks this
node's ``cn=accesslog`` for every write newer than its cookie.  The log holds
this node's own writes, those that never reached anyone among them (the very
changes the reload is meant to discard).  Left in place, they would be served
to the peers after the restart and replayed there, putting the discarded data
back on every node.  An empty log holds nothing to replay; a peer whose cookie
it cannot serve falls back to a normal refresh of the (reloaded) directory.
"""

from __future__ import annotations

from collections.abc import Sequence

from clustermgr.components.ldap.csn import Csn
from clustermgr.components.ldap.model import ACCESSLOG_DIR, SUFFIX
from clustermgr.facts.ldap import root_script
from clustermgr.facts.services import ServiceControl
from clustermgr.plan.model import Plan, Step
from clustermgr.remote.command import Command

#: Appended to a directory's path for the copy kept until the load is confirmed.
BACKUP = ".clustermgr-prev"

# $1 directory, $2 suffix, $3 accesslog directory, $4 BACKUP; the export on stdin.
# An older backup goes first, before anything can fail: the rollback must only
# ever put back the backup this very load made.
_LOAD = """\
set -eu
dir=$1; suffix=$2; log=$3; keep=$4
rm -rf "$dir$keep" "$log$keep"
ldif="$dir.clustermgr-load.ldif"
umask 077; cat > "$ldif"
svc slapd stop >/dev/null 2>&1 || true
# The log first: it may live inside the directory (then its backup moves along).
had_log=0; if [ -d "$log" ]; then had_log=1; mv "$log" "$log$keep"; fi
mv "$dir" "$dir$keep"; install -d -o openldap -g openldap -m 0700 "$dir"
if [ "$had_log" = 1 ]; then install -d -o openldap -g openldap -m 0700 "$log"; fi
slapadd -q -b "$suffix" -l "$ldif"
rm -f "$ldif"
chown -R openldap:openldap "$dir"
install -d -o openldap -g openldap /var/run/slapd
svc slapd start >/dev/null
"""

# $1 directory, $2 accesslog directory, $3 BACKUP: put the backups back, start slapd.
_RESTORE = """\
set -u
dir=$1; log=$2; keep=$3
svc slapd stop >/dev/null 2>&1 || true
rm -f "$dir.clustermgr-load.ldif"
if [ -d "$dir$keep" ]; then rm -rf "$dir"; mv "$dir$keep" "$dir"; fi
if [ -d "$log$keep" ]; then rm -rf "$log"; mv "$log$keep" "$log"; fi
install -d -o openldap -g openldap /var/run/slapd
svc slapd start >/dev/null
"""

#: slapd answers for the suffix within 10 s.
SERVES = root_script(
    'for i in $(seq 50); do ldapsearch $LDAPI -b "$1" -s base dn '
    ">/dev/null 2>&1 && exit 0; sleep 0.2; done; exit 1",
    SUFFIX,
)


def load_step(
    host: str,
    directory: str,
    export: bytes,
    services: ServiceControl,
    *,
    title: str,
    reason: str,
    accesslog: str | None = None,
    check: Command | None = None,
    unchanged_reason: str = "already in the desired state",
) -> Step:
    """Replace ``directory`` (the suffix's database) with ``export``; empty the accesslog.

    ``services``: how the node stops and starts slapd around the load.
    """
    log = accesslog or ACCESSLOG_DIR
    return Step(
        host,
        title,
        reason,
        commands=(services.script(_LOAD, directory, SUFFIX, log, BACKUP, stdin=export),),
        check=check,
        unchanged_reason=unchanged_reason,
        verify=SERVES,
        rollback=(services.script(_RESTORE, directory, log, BACKUP),),
    )


def discard_backup_step(host: str, directory: str, accesslog: str | None = None) -> Step:
    log = accesslog or ACCESSLOG_DIR
    return Step(
        host,
        "remove the previous directory kept as a backup",
        "the node serves the new data and agrees with its source",
        commands=(Command.of("rm", "-rf", f"{directory}{BACKUP}", f"{log}{BACKUP}"),),
    )


def plan_reinit(
    cluster: str,
    node: str,
    source: str,
    directory: str,
    export: bytes,
    services: ServiceControl,
    accesslog: str | None = None,
) -> Plan:
    step = load_step(
        node,
        directory,
        export,
        services,
        title=f"load {SUFFIX} from {source}",
        reason=f"replace {node}'s entries with {source}'s and empty its accesslog",
        accesslog=accesslog,
    )
    return Plan(f"re-initialise {node} from {source} (cluster {cluster})", (step,))


def with_context_csn(export: bytes, live: Sequence[str]) -> bytes:
    """``export`` with its suffix entry's contextCSN raised to ``live`` where that is newer.

    slapcat reads the database while slapd runs, and syncprov writes contextCSN to
    the database only at a checkpoint: an export's contextCSN may lag its entries.
    A node loaded with it asks its peers for every change since that older state and
    replays changes its data already holds; slapd 2.5.13 then applies an older modify
    over a newer one (keeping the newer entryCSN), and the reloaded node differs from
    its source.  ``live`` is the contextCSN read from slapd just before the export:
    every change it covers is in the export.
    """
    blocks = export.split(b"\n\n")
    for i, block in enumerate(blocks):
        lines = block.split(b"\n")
        if lines[0].decode(errors="replace").strip().lower() != f"dn: {SUFFIX}":
            continue
        old = [line.partition(b":")[2].strip().decode() for line in lines if _is_csn(line)]
        kept = [line for line in lines if not _is_csn(line)]
        values = [b"contextCSN: " + text.encode() for text in newest([*old, *live])]
        blocks[i] = b"\n".join([*kept, *values])
        break
    return b"\n\n".join(blocks)


def _is_csn(line: bytes) -> bool:
    return line.partition(b":")[0].strip().lower() == b"contextcsn"


def newest(texts: Sequence[str]) -> list[str]:
    """The newest CSN per server id among ``texts`` (ordered by server id); others dropped."""
    best: dict[int, tuple[Csn, str]] = {}
    for text in texts:
        try:
            value = Csn.parse(text)
        except ValueError:
            continue
        if value.server_id not in best or value > best[value.server_id][0]:
            best[value.server_id] = (value, text.strip())
    return [text for _, (_, text) in sorted(best.items())]
