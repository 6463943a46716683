"""The read-back check of cn=config, run on a node with ``python3 -c`` (stdlib only).

A step's check must answer "already done?" on the node itself, right before the
step applies (facts go stale).  slapd gives config values back in its own
canonical form (``{0}`` order prefixes, defaults added, quotes moved), so a
value is compared as a set of ``key=value`` tokens: a wanted token list matches
a value holding every one of them.  The spec comes on standard input (it may
hold the replicator's password), never in the arguments.

The parser is shared with the manager's facts, so both read LDIF the same way.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
import subprocess
import sys
from typing import Any

_ORDER = re.compile(r"^\{-?\d+\}")
_MODULE_SUFFIXES = (".la", ".so")

Entry = tuple[str, dict[str, list[str]]]


def parse_ldif(text: str) -> list[Entry]:
    """Entries of ``ldapsearch -LLL`` output, attribute names lower-cased."""
    entries: list[Entry] = []
    lines: list[str] = []
    for raw in text.splitlines():
        if raw.startswith(" ") and lines:
            lines[-1] += raw[1:]
        else:
            lines.append(raw)
    dn: str | None = None
    attrs: dict[str, list[str]] = {}
    for line in [*lines, ""]:
        if not line.strip():
            if dn is not None:
                entries.append((dn, attrs))
            dn, attrs = None, {}
            continue
        if line.startswith("#") or ":" not in line:
            continue
        name, _, rest = line.partition(":")
        if rest.startswith(":"):
            value = base64.b64decode(rest[1:].strip()).decode("utf-8", "replace")
        else:
            value = rest[1:] if rest.startswith(" ") else rest
        if name.lower() == "dn":
            dn = value
        else:
            attrs.setdefault(name.lower(), []).append(value)
    return entries


def strip_order(value: str) -> str:
    return _ORDER.sub("", value, count=1)


def tokens(name: str, value: str) -> set[str]:
    value = strip_order(value)
    if name.lower() == "olcmoduleload":
        for suffix in _MODULE_SUFFIXES:
            value = value.removesuffix(suffix)
        return {value.rsplit("/", 1)[-1]}
    try:
        return set(shlex.split(value))
    except ValueError:
        return {value}


def values(entries: list[Entry], name: str) -> list[str]:
    if name.lower() == "dn":
        return [dn for dn, _ in entries]
    return [v for _, attrs in entries for v in attrs.get(name.lower(), [])]


def satisfied(entries: list[Entry], check: dict[str, Any]) -> bool:
    """Every wanted token list matches a value; ``exact``: and no other value exists."""
    name = str(check["attr"])
    found = [tokens(name, v) for v in values(entries, name)]
    wanted = [set(w) for w in check.get("want", [])]
    if not all(any(w <= f for f in found) for w in wanted):
        return False
    return not check.get("exact") or len(found) == len(wanted)


def search(check: dict[str, Any]) -> list[Entry]:
    command = ["ldapsearch", "-Q", "-LLL", "-o", "ldif-wrap=no", "-Y", "EXTERNAL"]
    command += ["-H", "ldapi:///", "-b", check["base"], "-s", check.get("scope", "sub")]
    command += [check.get("filter", "(objectClass=*)"), check["attr"]]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode == 32:  # no such object: nothing there yet
        return []
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(2)
    return parse_ldif(done.stdout)


def main() -> None:
    checks = json.loads(sys.stdin.read())
    for check in checks:
        if not satisfied(search(check), check):
            raise SystemExit(1)


if __name__ == "__main__":
    main()
