"""Digest a node's directory, run on the node with ``python3 -c`` (stdlib only).

The spec comes on standard input as JSON: ``base`` (the suffix), ``exclude``
(DNs whose whole subtree is left out: the status probe branch, which status
writes and removes while it runs) and optionally ``names``: entry keys whose
DN the node should name (the drill-down of a comparison).

Read: ``ldapsearch -Y EXTERNAL`` as root over ldapi:///, every user attribute
plus two operational ones.  ``entryUUID`` belongs to the data: the same DN
under another entryUUID is another entry to syncrepl, which deletes one side's
copy on its next refresh.  ``entryCSN`` is replication state: two nodes whose
values agree but whose entryCSNs differ would resolve the entry's next
conflict differently, so it is compared too, but kept apart so a report can
say "values equal, entryCSN differs".  Other operational attributes
(timestamps, creatorsName, contextCSN) are left out: contextCSN is what
``ldap status`` compares, and equal contextCSNs alone do not prove equal data.

Attribute names are lower-cased, values compared as bytes in sorted order, DNs
lower-cased.  Only counts and SHA-256 digests leave the node, never a value
(values include password hashes); a DN only when its key is asked for.

Output: ``{"subtrees": {dn: {"count": n, "digest": hex, "entries": {key:
[content, csn]}}}, "dns": {key: dn}}``.  A subtree is a direct child of the
base with everything below it; the base entry is a subtree of its own.
Exit status 2 with ldapsearch's error when the directory cannot be read.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterable
from typing import Any

from clustermgr.facts.ldif import LDAPSEARCH_ROOT, raw_entries

OPERATIONAL = ("entryUUID", "entryCSN")
CSN = "entrycsn"
NO_SUCH_OBJECT = 32
KEY_HEX = 16

Attrs = dict[str, list[bytes]]
#: Entries of ``ldapsearch -LLL`` output (:mod:`clustermgr.facts.ldif`, put in front on the node).
entries = raw_entries


def split_dn(dn: str) -> list[str]:
    """The RDNs of ``dn``, stripped and lower-cased; escaped commas stay inside an RDN."""
    rdns: list[str] = []
    current: list[str] = []
    escaped = False
    for char in dn:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == ",":
            rdns.append("".join(current))
            current = []
        else:
            current.append(char)
    rdns.append("".join(current))
    return [r.strip().lower() for r in rdns if r.strip()]


def key(dn: str) -> str:
    """An entry's key: a digest of its normalised DN (DNs stay on the node)."""
    return hashlib.sha256(",".join(split_dn(dn)).encode()).hexdigest()[:KEY_HEX]


def subtree(dn: str, base: str) -> str | None:
    """The subtree ``dn`` belongs to (normalised), or None when it is not under ``base``."""
    rdns, under = split_dn(dn), split_dn(base)
    if len(rdns) < len(under) or rdns[len(rdns) - len(under) :] != under:
        return None
    return ",".join(rdns[len(rdns) - len(under) - 1 :] if len(rdns) > len(under) else under)


def excluded(dn: str, exclude: Iterable[str]) -> bool:
    rdns = split_dn(dn)
    for branch in exclude:
        cut = split_dn(branch)
        if len(rdns) >= len(cut) and rdns[len(rdns) - len(cut) :] == cut:
            return True
    return False


def entry_digest(attrs: Attrs) -> tuple[str, str]:
    """(values digest, entryCSN digest) of one entry; independent of name case and value order."""
    content = hashlib.sha256()
    for name in sorted(a for a in attrs if a != CSN):
        content.update(name.encode() + b"\0")
        for value in sorted(attrs[name]):
            content.update(len(value).to_bytes(8, "big") + value)
        content.update(b"\1")
    csn = hashlib.sha256(b"\0".join(sorted(attrs.get(CSN, []))))
    return content.hexdigest()[:KEY_HEX], csn.hexdigest()[:KEY_HEX]


def summarise(
    found: Iterable[tuple[str, Attrs]], base: str, exclude: Iterable[str], names: Iterable[str]
) -> dict[str, Any]:
    wanted = set(names)
    cut = list(exclude)
    subtrees: dict[str, dict[str, list[str]]] = {}
    dns: dict[str, str] = {}
    for dn, attrs in found:
        tree = subtree(dn, base)
        if tree is None or excluded(dn, cut):
            continue
        entry = key(dn)
        subtrees.setdefault(tree, {})[entry] = list(entry_digest(attrs))
        if entry in wanted:
            dns[entry] = dn
    out: dict[str, Any] = {}
    for tree, members in sorted(subtrees.items()):
        lines = "".join(f"{k} {c} {s}\n" for k, (c, s) in sorted(members.items()))
        out[tree] = {
            "count": len(members),
            "digest": hashlib.sha256(lines.encode()).hexdigest()[:KEY_HEX],
            "entries": members,
        }
    return {"subtrees": out, "dns": dns}


def main() -> None:
    spec = json.loads(sys.stdin.read())
    base = str(spec["base"])
    command = [*LDAPSEARCH_ROOT, "-b", base, "(objectClass=*)", "*", *OPERATIONAL]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        result = summarise(
            entries(proc.stdout), base, spec.get("exclude", []), spec.get("names", [])
        )
        error = proc.stderr.read()
        status = proc.wait()
    if status not in (0, NO_SUCH_OBJECT):  # no such object: the suffix has no entry at all
        sys.stderr.write(error.decode("utf-8", "replace"))
        raise SystemExit(2)
    sys.stdout.write(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
