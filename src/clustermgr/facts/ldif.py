"""LDIF as ``ldapsearch -LLL`` and ``slapcat`` print it, and root's LDAP tools on a node.

The one LDIF reader: the manager's facts use it, and so do the scripts that run
on a node with ``python3 -c`` (:func:`node_script` puts this module's source in
front of theirs), so a node and the manager read LDIF the same way.  It must
therefore stay standard library only.

Root on a node talks to slapd over ``ldapi:///`` with SASL EXTERNAL (Debian's
cn=config manager): :data:`LDAPI_ROOT` are those options, for every tool.
"""

from __future__ import annotations

import base64
import inspect
import re
import shlex
import sys
from collections.abc import Iterable, Iterator
from types import ModuleType

#: Who root is to slapd over ldapi:/// with SASL EXTERNAL (its peer credentials).
PEERCRED_ROOT = "gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth"
#: Root over ldapi:///, quietly (``-Q``): the options every LDAP tool takes on a node.
LDAPI_ROOT = ("-Q", "-Y", "EXTERNAL", "-H", "ldapi:///")
#: The same options for a shell script's text.
LDAPI_ROOT_SH = " ".join(LDAPI_ROOT)
#: ``ldapsearch`` as root, LDIF without comments or line wrapping.
LDAPSEARCH_ROOT = ("ldapsearch", "-LLL", "-o", "ldif-wrap=no", *LDAPI_ROOT)
#: ``ldapmodify`` as root; the LDIF comes on standard input.
LDAPMODIFY_ROOT = ("ldapmodify", *LDAPI_ROOT)

_ORDER = re.compile(r"^\{-?\d+\}")
_MODULE_SUFFIXES = (".la", ".so")

#: One entry: its DN and its attributes (names lower-cased), values as text.
Entry = tuple[str, dict[str, list[str]]]
#: The same with values as bytes (binary values stay exact).
RawEntry = tuple[str, dict[str, list[bytes]]]


def raw_entries(lines: Iterable[bytes]) -> Iterator[RawEntry]:
    """Entries of LDIF lines, one at a time (so a large directory streams).

    Continuation lines (a leading space) are folded back, comments skipped,
    base64 values (``name:: ...``) decoded; attribute names are lower-cased.
    """
    dn: str | None = None
    attrs: dict[str, list[bytes]] = {}
    for line in [*_joined(lines), b""]:
        if not line.strip():
            if dn is not None:
                yield dn, attrs
            dn, attrs = None, {}
            continue
        if line.startswith(b"#") or b":" not in line:
            continue
        name, _, rest = line.partition(b":")
        if rest.startswith(b":"):
            value = base64.b64decode(rest[1:].strip())
        else:
            value = rest[1:] if rest.startswith(b" ") else rest
        lowered = name.decode("ascii", "replace").lower()
        if lowered == "dn":
            dn = value.decode("utf-8", "replace")
        else:
            attrs.setdefault(lowered, []).append(value)


def _joined(lines: Iterable[bytes]) -> Iterator[bytes]:
    """Lines without their line ends, LDIF continuations (a leading space) folded in."""
    pending: bytes | None = None
    for raw in lines:
        line = raw.rstrip(b"\r\n")
        if line.startswith(b" ") and pending is not None:
            pending += line[1:]
            continue
        if pending is not None:
            yield pending
        pending = line
    if pending is not None:
        yield pending


def parse_ldif(text: str) -> list[Entry]:
    """Entries of LDIF text, values decoded as UTF-8."""
    return [
        (dn, {k: [v.decode("utf-8", "replace") for v in vs] for k, vs in attrs.items()})
        for dn, attrs in raw_entries(text.encode().splitlines())
    ]


def values(entries: Iterable[Entry], name: str) -> list[str]:
    """Every value of attribute ``name`` in ``entries`` (``dn``: their DNs)."""
    if name.lower() == "dn":
        return [dn for dn, _ in entries]
    return [v for _, attrs in entries for v in attrs.get(name.lower(), [])]


def strip_order(value: str) -> str:
    """A cn=config value without its ``{n}`` order prefix."""
    return _ORDER.sub("", value, count=1)


def tokens(name: str, value: str) -> set[str]:
    """A cn=config value as a set of words, to compare it however slapd reordered it.

    ``olcModuleLoad`` is reduced to the module's name (no directory, no suffix).
    """
    value = strip_order(value)
    if name.lower() == "olcmoduleload":
        for suffix in _MODULE_SUFFIXES:
            value = value.removesuffix(suffix)
        return {value.rsplit("/", 1)[-1]}
    try:
        return set(shlex.split(value))
    except ValueError:
        return {value}


def node_script(module: ModuleType) -> str:
    """The source of a node script with this reader in front, for ``python3 -c``.

    The script imports from this module as usual (so it runs and is tested
    here as it is); on the node that import line is dropped, the names being
    defined above it.
    """
    return with_reader(inspect.getsource(module))


def with_reader(source: str) -> str:
    """Script ``source`` (see :func:`node_script`) with this module's source in front."""
    reader = inspect.getsource(sys.modules[__name__])
    own = [
        line
        for line in source.splitlines()
        if not line.startswith((f"from {__name__} import", "from __future__ import"))
    ]
    return reader + "\n\n" + "\n".join(own) + "\n"
