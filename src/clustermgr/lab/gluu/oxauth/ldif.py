"""LDIF as ldap-utils speak it: reading ``ldapsearch -LLL`` output, writing values, filters.

The stand-in talks to its directory through the ldap-utils commands rather than an
LDAP library (lab hosts have no third-party packages), so LDIF text is its wire format.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass


def ldif_attr(name: str, value: str) -> str:
    """One LDIF line; base64 (``name:: ...``) when RFC 2849 does not allow the value raw."""
    unsafe = (
        value[:1] in (" ", ":", "<")
        or value.endswith(" ")
        or any(c in "\0\r\n" or ord(c) > 126 for c in value)
    )
    if unsafe:
        return f"{name}:: {base64.b64encode(value.encode()).decode('ascii')}"
    return f"{name}: {value}"


@dataclass(frozen=True)
class Entry:
    dn: str
    #: Attribute names lower-cased.
    attrs: dict[str, list[str]]

    def first(self, name: str) -> str | None:
        values = self.attrs.get(name.lower())
        return values[0] if values else None


def parse_ldif(text: str) -> list[Entry]:
    """Entries of ``ldapsearch -LLL`` output (or any LDIF without change records)."""
    entries: list[Entry] = []
    lines: list[str] = []
    for raw in text.splitlines():
        if raw.startswith(" ") and lines:
            lines[-1] += raw[1:]
        elif not raw.startswith("#"):
            lines.append(raw)
    dn: str | None = None
    attrs: dict[str, list[str]] = {}
    for line in [*lines, ""]:
        if not line.strip():
            if dn is not None:
                entries.append(Entry(dn, attrs))
            dn, attrs = None, {}
            continue
        name, _, rest = line.partition(":")
        value = (
            base64.b64decode(rest[1:].strip()).decode() if rest.startswith(":") else rest.strip()
        )
        if name.lower() == "dn":
            dn = value
        else:
            attrs.setdefault(name.lower(), []).append(value)
    return entries


def escape_filter(value: str) -> str:
    """Escape a value for an LDAP search filter (RFC 4515)."""
    return "".join(f"\\{ord(c):02x}" if c in "*()\\\0" else c for c in value)
