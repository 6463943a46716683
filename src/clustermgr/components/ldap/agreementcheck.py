"""The watcher's check on one node, run there with ``python3 -c`` (stdlib only).

It asks the node's own slapd (root over ldapi, SASL EXTERNAL) for the suffix's
contextCSN and for its olcSyncrepl agreements, then checks every agreement from
this consumer's side: a TCP connection to the provider, then ``ldapwhoami``
with the agreement's own settings (StartTLS, CA file, bind DN, credentials).
The credentials are in clear in cn=config: they go to ``ldapwhoami`` on a pipe
(``-y /dev/stdin``), never in arguments, and never into the output.

Input on stdin (JSON): ``{"suffix": "o=gluu", "timeout": 2.0}``.  Output on
stdout (JSON): ``{"slapd": "ok" | "down", "reason": ..., "context_csn": [...],
"agreements": [{"rid", "provider", "state", "reason"}]}`` where state is one of
:data:`STATES`.
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from clustermgr.facts.ldif import LDAPSEARCH_ROOT, parse_ldif, strip_order, values

STATES = ("ok", "unreachable", "tls", "credentials", "error")
#: ``ldap_bind: Invalid credentials (49)``: the LDAP result code in parentheses.
_CODE = re.compile(r"\((-?\d+)\)\s*$")
#: LDAP result codes: a refused bind, a TLS handshake that failed, no server.
_CREDENTIALS = {48, 49, 50, 53}
_TLS = {-11, -12}
_UNREACHABLE = {-1, -5, 51, 52}


def attribute(ldif: str, name: str) -> list[str]:
    """Values of ``name`` in LDIF (base64 values decoded)."""
    return values(parse_ldif(ldif), name)


def agreement(value: str) -> dict[str, str]:
    """An olcSyncrepl value as ``key -> value`` (its order prefix dropped, quotes removed)."""
    words = shlex.split(strip_order(value))
    return dict(w.split("=", 1) for w in words if "=" in w)


def classify(exit_status: int, stderr: str, *, starttls: bool) -> tuple[str, str]:
    """``ldapwhoami``'s outcome as a state and a short reason (its first error line).

    ldapwhoami exits 1 for every failure of StartTLS, so the state comes from the
    LDAP result code it prints in parentheses; without one, "error".
    """
    if exit_status == 0:
        return "ok", ""
    first = next((line.strip() for line in stderr.splitlines() if line.strip()), "")
    reason = first[:200] or f"ldapwhoami exited {exit_status}"
    found = _CODE.search(first)
    code = int(found.group(1)) if found else exit_status
    if code in _CREDENTIALS:
        return "credentials", reason
    if code in _TLS and (starttls or first.startswith("ldap_start_tls")):
        return "tls", reason
    if code in _UNREACHABLE:
        return "unreachable", reason
    return "error", reason


def tcp_reason(url: str, timeout: float) -> str | None:
    """None when the provider accepts a TCP connection, else why not."""
    parts = urlsplit(url)
    port = parts.port or (636 if parts.scheme == "ldaps" else 389)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout):
            return None
    except OSError as exc:
        return f"cannot connect to {parts.hostname}:{port}: {exc.strerror or exc}"


def whoami_command(settings: dict[str, str], timeout: float) -> tuple[list[str], dict[str, str]]:
    """ldapwhoami's arguments and TLS environment for one agreement (no credentials)."""
    command = ["ldapwhoami", "-x", "-o", f"nettimeout={timeout:g}", "-H", settings["provider"]]
    starttls = settings.get("starttls", "no").lower()
    if starttls == "critical":
        command.append("-ZZ")
    elif starttls == "yes":
        command.append("-Z")
    if settings.get("bindmethod", "simple").lower() == "simple" and "binddn" in settings:
        command += ["-D", settings["binddn"], "-y", "/dev/stdin"]
    env = {"LDAPTLS_REQCERT": settings.get("tls_reqcert", "demand")}
    for key, variable in (
        ("tls_cacert", "LDAPTLS_CACERT"),
        ("tls_cacertdir", "LDAPTLS_CACERTDIR"),
        ("tls_cert", "LDAPTLS_CERT"),
        ("tls_key", "LDAPTLS_KEY"),
    ):
        if key in settings:
            env[variable] = settings[key]
    return command, env


def check(settings: dict[str, str], timeout: float) -> dict[str, str]:
    provider = settings.get("provider", "")
    out = {"rid": settings.get("rid", ""), "provider": provider}
    unreachable = tcp_reason(provider, timeout)
    if unreachable:
        return {**out, "state": "unreachable", "reason": unreachable}
    command, env = whoami_command(settings, timeout)
    try:
        done = subprocess.run(
            command,
            input=settings.get("credentials", "").encode(),
            capture_output=True,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **env},
            timeout=timeout * 2,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {**out, "state": "unreachable", "reason": f"no answer within {timeout * 2:g} s"}
    starttls = settings.get("starttls", "no").lower() in ("yes", "critical")
    state, reason = classify(
        done.returncode, done.stderr.decode("utf-8", "replace"), starttls=starttls
    )
    return {**out, "state": state, "reason": reason}


def search(arguments: list[str], timeout: float) -> subprocess.CompletedProcess[str] | None:
    """``ldapsearch`` as root over ldapi; None when slapd did not answer in time."""
    try:
        return subprocess.run(
            [*LDAPSEARCH_ROOT, *arguments],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None


def run(spec: dict[str, Any]) -> dict[str, Any]:
    suffix, timeout = str(spec["suffix"]), float(spec.get("timeout", 2.0))
    done = search(["-b", suffix, "-s", "base", "contextCSN"], timeout * 2)
    if done is None or done.returncode != 0:
        first = next((x.strip() for x in done.stderr.splitlines() if x.strip()), "") if done else ""
        late = f"no answer on ldapi within {timeout * 2:g} s"
        reason = first[:200] or (f"ldapsearch exited {done.returncode}" if done else late)
        return {"slapd": "down", "reason": reason, "context_csn": [], "agreements": []}
    csns = attribute(done.stdout, "contextCSN")
    query = ["-b", "cn=config", f"(&(olcSuffix={suffix})(olcSyncrepl=*))", "olcSyncrepl"]
    config = search(query, timeout * 2)
    agreements = [agreement(v) for v in attribute(config.stdout if config else "", "olcSyncrepl")]
    with ThreadPoolExecutor(max_workers=max(1, len(agreements))) as pool:
        checked = list(pool.map(lambda v: check(v, timeout), agreements))
    return {"slapd": "ok", "reason": "", "context_csn": csns, "agreements": checked}


def main() -> None:
    json.dump(run(json.loads(sys.stdin.read())), sys.stdout)


if __name__ == "__main__":
    main()
