"""``setup.properties``: Java properties text, read and written, and its checked settings.

The syntax is ``java.util.Properties.load``'s: ``#`` and ``!`` comments, a key
ended by an unescaped ``=``, ``:`` or blank, a backslash at a line's end
continuing it, and the escapes ``\\t \\n \\r \\f \\uXXXX`` (any other escaped
character is itself).  So a password may hold any character.

Standard library only: it runs on the node, inside the setup program.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
_BLANKS = " \t\f"


class PropertiesError(ValueError):
    """A bad ``setup.properties``: ``key`` names the property at fault (None: the syntax)."""

    def __init__(self, key: str | None, message: str) -> None:
        super().__init__(f"{key}: {message}" if key else message)
        self.key = key


def _logical_lines(text: str) -> list[str]:
    """Physical lines joined where a line ends in an odd number of backslashes."""
    out: list[str] = []
    pending: str | None = None
    for raw in re.split(r"\r\n|\r|\n", text):
        line = raw.lstrip(_BLANKS) if pending is not None else raw
        if pending is None and line.lstrip(_BLANKS)[:1] in ("#", "!"):
            continue
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2:
            pending = (pending or "") + line[:-1]
            continue
        joined = (pending or "") + line
        pending = None
        if joined.strip(_BLANKS):
            out.append(joined.lstrip(_BLANKS))
    if pending is not None and pending.strip(_BLANKS):
        out.append(pending.lstrip(_BLANKS))
    return out


def _unescape(text: str) -> str:
    out = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        i += 1
        if i == len(text):
            break
        char = text[i]
        if char == "u":
            digits = text[i + 1 : i + 5]
            if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise PropertiesError(None, f"malformed \\uXXXX escape: \\u{digits}")
            out.append(chr(int(digits, 16)))
            i += 5
            continue
        out.append(_ESCAPES.get(char, char))
        i += 1
    return "".join(out)


def _split(line: str) -> tuple[str, str]:
    i = 0
    while i < len(line):
        char = line[i]
        if char == "\\":
            i += 2
            continue
        if char in "=:" or char in _BLANKS:
            break
        i += 1
    key, rest = line[:i], line[i:]
    rest = rest.lstrip(_BLANKS)
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(_BLANKS)
    return key, rest


def parse_properties(text: str) -> dict[str, str]:
    """The properties in ``text``, unescaped; a key given twice keeps its last value."""
    values: dict[str, str] = {}
    for line in _logical_lines(text):
        key, value = _split(line)
        values[_unescape(key)] = _unescape(value)
    return values


def _escape(text: str, *, key: bool) -> str:
    out = []
    for index, char in enumerate(text):
        if char == "\\":
            out.append("\\\\")
        elif char in "\t\n\r\f":
            out.append("\\" + {"\t": "t", "\n": "n", "\r": "r", "\f": "f"}[char])
        elif char in "=:#!" or (char == " " and (key or index == 0)):
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)


def format_properties(values: Mapping[str, str]) -> str:
    """Properties text that :func:`parse_properties` (and Java) read back as ``values``."""
    return "".join(f"{_escape(k, key=True)}={_escape(v, key=False)}\n" for k, v in values.items())


# --- the settings ---------------------------------------------------------------

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: X.509's upper bound for organisation, locality and state names.
NAME_MAX = 64
PASSWORD_MIN = 6
FLAGS = ("installLdap", "installOxAuth", "installHttpd")
REQUIRED = (
    "hostname",
    "orgName",
    "city",
    "state",
    "countryCode",
    "admin_email",
    "ldapPass",
    "oxtrust_admin_password",
)


@dataclass(frozen=True)
class SetupProperties:
    """The checked settings of one ``setup.properties`` (other keys are ignored)."""

    hostname: str
    org_name: str
    city: str
    state: str
    country_code: str
    admin_email: str
    ldap_password: str
    admin_password: str
    install_ldap: bool
    install_oxauth: bool
    install_httpd: bool

    def __repr__(self) -> str:  # the passwords never reach a log or a traceback
        return f"SetupProperties(hostname={self.hostname!r}, org_name={self.org_name!r}, ...)"


def _hostname(value: str) -> str:
    name = value.lower()
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(_LABEL.match(x) for x in labels):
        raise PropertiesError(
            "hostname", f"{value!r} is not a fully qualified DNS name (idp.example.org)"
        )
    return name


def _name(key: str, value: str) -> str:
    if not value.strip():
        raise PropertiesError(key, "must not be empty")
    if len(value) > NAME_MAX:
        raise PropertiesError(key, f"must be at most {NAME_MAX} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise PropertiesError(key, "must not hold control characters")
    return value


def _password(key: str, value: str) -> str:
    if len(value) < PASSWORD_MIN:
        raise PropertiesError(key, f"must be at least {PASSWORD_MIN} characters")
    if "\0" in value:
        raise PropertiesError(key, "must not hold a NUL character")
    return value


def _flag(key: str, value: str | None) -> bool:
    if value is None:
        return True
    if value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise PropertiesError(key, f"must be True or False, not {value!r}")


def validate(values: Mapping[str, str]) -> SetupProperties:
    """The settings ``values`` hold; PropertiesError naming the first bad key.

    The install flags default to True; a key's error message never holds a password.
    """
    for key in REQUIRED:
        if key not in values:
            raise PropertiesError(key, "is missing")
    country = values["countryCode"]
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise PropertiesError("countryCode", f"{country!r} is not a two-letter code (US, DE)")
    email = values["admin_email"]
    if not _EMAIL.match(email) or len(email) > 254:
        raise PropertiesError("admin_email", f"{email!r} is not an email address")
    settings = SetupProperties(
        hostname=_hostname(values["hostname"]),
        org_name=_name("orgName", values["orgName"]),
        city=_name("city", values["city"]),
        state=_name("state", values["state"]),
        country_code=country,
        admin_email=email,
        ldap_password=_password("ldapPass", values["ldapPass"]),
        admin_password=_password("oxtrust_admin_password", values["oxtrust_admin_password"]),
        install_ldap=_flag("installLdap", values.get("installLdap")),
        install_oxauth=_flag("installOxAuth", values.get("installOxAuth")),
        install_httpd=_flag("installHttpd", values.get("installHttpd")),
    )
    if settings.install_oxauth and not settings.install_ldap:
        raise PropertiesError(
            "installOxAuth", "needs installLdap=True: the identity app uses the node's LDAP"
        )
    return settings
