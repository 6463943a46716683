"""The read-back check of cn=config, run on a node with ``python3 -c`` (stdlib only).

A step's check must answer "already done?" on the node itself, right before the
step applies (facts go stale).  slapd gives config values back in its own
canonical form (``{0}`` order prefixes, defaults added, quotes moved), so a
value is compared as a set of ``key=value`` tokens: a wanted token list matches
a value holding every one of them.  The spec comes on standard input (it may
hold the replicator's password), never in the arguments.

The LDIF reader is :mod:`clustermgr.facts.ldif`, put in front of this script on
the node, so the node and the manager's facts read LDIF the same way.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from clustermgr.facts.ldif import LDAPSEARCH_ROOT, Entry, parse_ldif, tokens, values


def satisfied(entries: list[Entry], check: dict[str, Any]) -> bool:
    """Every wanted token list matches a value; ``exact``: and no other value exists."""
    name = str(check["attr"])
    found = [tokens(name, v) for v in values(entries, name)]
    wanted = [set(w) for w in check.get("want", [])]
    if not all(any(w <= f for f in found) for w in wanted):
        return False
    return not check.get("exact") or len(found) == len(wanted)


def search(check: dict[str, Any]) -> list[Entry]:
    command = [*LDAPSEARCH_ROOT, "-b", check["base"], "-s", check.get("scope", "sub")]
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
