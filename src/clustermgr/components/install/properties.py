"""setup.properties: what the Gluu Server setup is told, the same for every node (pure).

Written in the Java properties format the setup reads, every value escaped as
``Properties.store`` escapes it (backslashes, separators, comment marks, control
characters, and everything beyond ASCII as ``\\uXXXX``), so a password of any
characters reaches setup exactly.  Every other value passed its rule at the settings
boundary and is checked again here before it is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from clustermgr.components.install.settings import InstallSettings
from clustermgr.redact import MASK, Secret
from clustermgr.validation import COUNTRY, EMAIL, HOSTNAME, WORDS, checked

#: Where every node keeps the properties it was set up with.
PATH = "/etc/gluu/conf/setup.properties"
#: The keys whose values are secrets.
SECRET_KEYS = ("ldapPass", "oxtrust_admin_password")
_ESCAPED = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f"}
_SEPARATORS = "=:#!"


@dataclass(frozen=True)
class SetupValues:
    """Everything setup.properties says: the settings, the cluster's public hostname,
    and the two passwords (sealed in the inventory)."""

    hostname: str
    settings: InstallSettings
    #: The directory manager's password: made by clustermgr.
    ldap_password: Secret
    #: The Gluu admin's password: the user's.
    admin_password: Secret

    @property
    def secrets(self) -> tuple[Secret, ...]:
        return (self.ldap_password, self.admin_password)


def escape(value: str) -> str:
    """``value`` as a properties value: read back by any properties parser exactly."""
    out: list[str] = []
    for position, char in enumerate(value):
        if char in _ESCAPED:
            out.append(_ESCAPED[char])
        elif char == " " and position == 0:
            out.append("\\ ")  # a leading space would be taken for the separator's
        elif char in _SEPARATORS:
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        else:
            for unit in range(0, len(char.encode("utf-16-be")), 2):
                code = int.from_bytes(char.encode("utf-16-be")[unit : unit + 2], "big")
                out.append(f"\\u{code:04x}")
    return "".join(out)


def _pairs(values: SetupValues, *, masked: bool) -> Iterator[tuple[str, str]]:
    s = values.settings
    yield "hostname", checked(HOSTNAME, values.hostname)
    yield "orgName", checked(WORDS, s.organization)
    yield "city", checked(WORDS, s.city)
    yield "state", checked(WORDS, s.state)
    yield "countryCode", checked(COUNTRY, s.country)
    yield "admin_email", checked(EMAIL, s.admin_email)
    yield "ldapPass", MASK if masked else values.ldap_password.reveal()
    yield "oxtrust_admin_password", MASK if masked else values.admin_password.reveal()
    # A cluster node serves its directory, the identity app and the web front.
    yield "installLdap", "True"
    yield "installOxAuth", "True"
    yield "installHttpd", "True"


def render(values: SetupValues, *, masked: bool = False) -> str:
    """The file, or (``masked``) the same with each password shown as a mask, for review."""
    lines = ["# Gluu Server setup: the same on every node of the cluster (clustermgr)."]
    lines += [
        f"{key}={value if masked and value == MASK else escape(value)}"
        for key, value in _pairs(values, masked=masked)
    ]
    return "\n".join(lines) + "\n"


def parse(text: str) -> dict[str, str]:
    """A properties file read back (the subset :func:`render` writes: one ``key=value``
    per line, comments, ``\\`` escapes); for checks and tests."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line or line.startswith(("#", "!")):
            continue
        key, _, raw = line.partition("=")
        out[key] = _unescape(raw)
    return out


def _unescape(raw: str) -> str:
    out: list[str] = []
    units: list[int] = []
    i = 0
    while i < len(raw):
        char = raw[i]
        if char == "\\" and raw[i + 1 : i + 2] == "u":
            units.append(int(raw[i + 2 : i + 6], 16))
            i += 6
            continue
        if units:
            out.append(b"".join(u.to_bytes(2, "big") for u in units).decode("utf-16-be"))
            units = []
        if char == "\\":
            nxt = raw[i + 1]
            out.append({"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(nxt, nxt))
            i += 2
            continue
        out.append(char)
        i += 1
    if units:
        out.append(b"".join(u.to_bytes(2, "big") for u in units).decode("utf-16-be"))
    return "".join(out)
