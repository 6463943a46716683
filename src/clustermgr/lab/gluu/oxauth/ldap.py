"""The node's directory through ldap-utils, as ox-ldap.properties describes it.

One ``ldapsearch``/``ldapadd``/``ldapwhoami`` process per operation: no LDAP library
on lab hosts, and the tools' exit status is the LDAP result code.  Passwords reach
the tools through a pipe (``-y /dev/fd/N``), never on a command line or on disk.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .ldif import Entry, parse_ldif
from .secret import decode_secret

LDAP_TIMEOUT = 5.0
LDAP_NET_TIMEOUT = 3
INVALID_CREDENTIALS = 49
NO_SUCH_OBJECT = 32


class LdapError(Exception):
    """An ldap-utils command failed; ``code`` is its exit status (an LDAP result code)."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"LDAP error {code}: {detail}")
        self.code = code


def parse_properties(text: str) -> dict[str, str]:
    """Gluu's properties files mix ``key: value`` and ``key=value``; the first separator wins."""
    props: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        cut = min((i for i in (line.find(":"), line.find("=")) if i >= 0), default=-1)
        if cut > 0:
            props[line[:cut].strip()] = line[cut + 1 :].strip()
    return props


@dataclass(frozen=True)
class LdapSettings:
    """What ox-ldap.properties says: where the directory is and who to bind as."""

    uris: tuple[str, ...]
    bind_dn: str
    bind_password: str = field(repr=False)
    #: PEM CA for ldaps (the stand-in reads ``ssl.trustStoreFile`` as PEM, not PKCS#12).
    ca_file: str | None = None

    @classmethod
    def from_properties(cls, props: Mapping[str, str]) -> LdapSettings:
        missing = [k for k in ("bindDN", "bindPassword", "servers") if not props.get(k)]
        if missing:
            raise ValueError(f"ox-ldap.properties lacks {', '.join(missing)}")
        scheme = "ldaps" if props.get("useSSL", "false").lower() == "true" else "ldap"
        servers = [s for s in re.split(r"[,\s]+", props["servers"]) if s]
        return cls(
            uris=tuple(f"{scheme}://{server}" for server in servers),
            bind_dn=props["bindDN"],
            bind_password=decode_secret(props["bindPassword"]),
            ca_file=props.get("ssl.trustStoreFile") or None,
        )


class Ldap:
    """The node's directory, one ldap-utils process per operation.

    ``-H`` lists every server of ox-ldap.properties, so the tools fail over in
    order as Gluu's connection pool does.  The bind password goes through a pipe.
    """

    def __init__(self, settings: LdapSettings, timeout: float = LDAP_TIMEOUT) -> None:
        self.settings = settings
        self.timeout = timeout
        self._env = dict(os.environ)
        if settings.ca_file:
            self._env.update(LDAPTLS_CACERT=settings.ca_file, LDAPTLS_REQCERT="demand")

    def search(self, base: str, scope: str, filterstr: str, attrs: Sequence[str]) -> list[Entry]:
        args = ["-LLL", "-o", "ldif-wrap=no", "-b", base, "-s", scope, filterstr, *attrs]
        done = self._run("ldapsearch", args)
        if done.returncode == NO_SUCH_OBJECT:
            return []
        self._check(done)
        return parse_ldif(done.stdout)

    def add(self, ldif: str) -> None:
        self._check(self._run("ldapadd", [], stdin=ldif))

    def credentials_valid(self, dn: str, password: str) -> bool:
        """Bind as ``dn``: True if accepted, False if refused (49); LdapError otherwise."""
        if not password:
            return False  # an empty password is an unauthenticated bind, never a login
        done = self._run("ldapwhoami", [], identity=(dn, password))
        if done.returncode == INVALID_CREDENTIALS:
            return False
        self._check(done)
        return True

    def _run(
        self,
        tool: str,
        args: Sequence[str],
        *,
        identity: tuple[str, str] | None = None,
        stdin: str = "",
    ) -> subprocess.CompletedProcess[str]:
        dn, password = identity or (self.settings.bind_dn, self.settings.bind_password)
        read_fd, write_fd = os.pipe()
        try:
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(password.encode())  # far below the pipe buffer: cannot block
            argv = [tool, "-x", "-H", " ".join(self.settings.uris)]
            argv += ["-o", f"nettimeout={LDAP_NET_TIMEOUT}", "-D", dn, "-y", f"/dev/fd/{read_fd}"]
            return subprocess.run(
                [*argv, *args],
                input=stdin,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                pass_fds=(read_fd,),
                env=self._env,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise LdapError(-1, f"{tool} timed out after {self.timeout}s") from exc
        except OSError as exc:
            raise LdapError(-1, f"{tool}: {exc}") from exc
        finally:
            os.close(read_fd)

    @staticmethod
    def _check(done: subprocess.CompletedProcess[str]) -> None:
        if done.returncode != 0:
            detail = " ".join(done.stderr.split())[:300] or "no message"
            raise LdapError(done.returncode, detail)
