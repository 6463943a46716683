"""Directory changes as plans show them (pure): LDIF change records applied to known entries.

A step that changes a directory with ``ldapmodify`` carries its LDIF; applied
here to the entries the planner read (its facts), it gives each entry's
touched attributes now and as they will be (:class:`EntryChange`), which the
executor shows as a diff under the entry's pseudo-path ``ldap:///<dn>``.

Secrets are masked when a change is built, so an :class:`EntryChange` never
holds one: the values of password attributes, every ``credentials=`` of a
value (syncrepl's bind password), and every secret the manager holds.
Values are compared without their ``{n}`` order prefix (their order shows it).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from clustermgr.plan.diffs import unified
from clustermgr.plan.model import AttributeLine, EntryChange, FileDiff
from clustermgr.redact import MASK, Secret, redact

#: Attributes whose whole value is a secret (names lower-cased).
SECRET_ATTRIBUTES = frozenset({"userpassword", "olcrootpw", "olcdbaclpasswd"})
_CREDENTIALS = re.compile(r'((?:^|\s)credentials\s*=\s*)("[^"]*"?|\S*)', re.IGNORECASE)
_ORDER = re.compile(r"^\{-?\d+\}")

#: Entries as the planner read them: DN (lower-cased) to attribute (lower-cased) to
#: values.  An attribute missing from an entry was not read.
Known = Mapping[str, Mapping[str, Sequence[str]]]


def mask_value(name: str, value: str) -> str:
    """``value`` of attribute ``name`` as a plan may show it."""
    if name.lower() in SECRET_ATTRIBUTES:
        return MASK
    return redact(_CREDENTIALS.sub(lambda m: m.group(1) + MASK, value))


def strip_order(value: str) -> str:
    return _ORDER.sub("", value, count=1)


@dataclass
class _Record:
    dn: str
    changetype: str = "add"
    #: add: the entry's lines; modify: (operation, attribute, values) in order.
    lines: list[AttributeLine] = field(default_factory=list)
    operations: list[tuple[str, str, list[str]]] = field(default_factory=list)


def changes(ldif: str | Secret, known: Known) -> tuple[EntryChange, ...]:
    """The entries ``ldif`` (``ldapmodify`` input) changes, before and after, masked."""
    text = ldif.reveal() if isinstance(ldif, Secret) else ldif
    return tuple(_change(record, known) for record in _records(text))


def entry_diff(change: EntryChange) -> FileDiff:
    """The diff a plan shows for an entry (masked once more, should a value slip through)."""

    def lines(attrs: Sequence[AttributeLine] | None, unread: Sequence[str] = ()) -> list[str]:
        if attrs is None:
            return []
        out = [f"dn: {change.dn}\n"]
        out += [f"# {name}: not read (its current values are not shown)\n" for name in unread]
        out += [f"{name}: {mask_value(name, value)}\n" for name, value in attrs]
        return out

    before = None if change.before is None else lines(change.before, change.unread)
    after = None if change.after is None else lines(change.after)
    diff = unified(change.path, before, after)
    return FileDiff(change.path, diff, change.before is None)


def _change(record: _Record, known: Known) -> EntryChange:
    dn = record.dn
    if record.changetype == "add":
        return EntryChange(dn, None, tuple(_masked(record.lines)))
    entry = known.get(dn.lower())
    if record.changetype == "delete":
        before = [(name, v) for name, vs in (entry or {}).items() for v in vs]
        return EntryChange(dn, tuple(_masked(before)), None)
    names: dict[str, str] = {}
    for _, name, _ in record.operations:
        names.setdefault(name.lower(), name)
    now = {key: [strip_order(v) for v in (entry or {}).get(key, [])] for key in names}
    unread = tuple(names[key] for key in names if entry is None or key not in entry)
    after = {key: list(values) for key, values in now.items()}
    for operation, name, values in record.operations:
        _apply(after.setdefault(name.lower(), []), operation, values)
    return EntryChange(
        dn,
        tuple(_masked((names[k], v) for k in names for v in now[k])),
        tuple(_masked((names[k], v) for k in names for v in after[k])),
        unread,
    )


def _apply(current: list[str], operation: str, values: Sequence[str]) -> None:
    if operation == "replace":
        current[:] = [strip_order(v) for v in values]
    elif operation == "delete":
        gone = {strip_order(v) for v in values}
        current[:] = [v for v in current if v not in gone] if values else []
    else:
        for value in values:
            order = _ORDER.match(value)
            if order:
                position = min(int(value[1 : order.end() - 1]), len(current))
                current.insert(position, value[order.end() :])
            else:
                current.append(value)


def _masked(lines: Iterator[AttributeLine] | Sequence[AttributeLine]) -> Iterator[AttributeLine]:
    for name, value in lines:
        yield name, mask_value(name, value)


def _records(text: str) -> Iterator[_Record]:
    for block in re.split(r"\n\s*\n", text.strip()):
        parsed = [_line(x) for x in _unfolded(block) if x and not x.startswith("#")]
        if not parsed or parsed[0][0].lower() != "dn":
            continue
        record = _Record(parsed[0][1])
        rest = parsed[1:]
        if rest and rest[0][0].lower() == "changetype":
            record.changetype = rest[0][1].strip().lower()
            rest = rest[1:]
        if record.changetype == "modify":
            record.operations = list(_operations(rest))
        else:
            record.lines = rest
        yield record


def _operations(lines: Sequence[AttributeLine]) -> Iterator[tuple[str, str, list[str]]]:
    current: tuple[str, str, list[str]] | None = None
    for name, value in lines:
        if name == "-":
            if current is not None:
                yield current
            current = None
        elif current is None:
            current = (name.lower(), value.strip(), [])
        else:
            current[2].append(value)
    if current is not None:
        yield current


def _unfolded(block: str) -> Iterator[str]:
    pending: str | None = None
    for line in block.splitlines():
        if line.startswith(" ") and pending is not None:
            pending += line[1:]
            continue
        if pending is not None:
            yield pending
        pending = line
    if pending is not None:
        yield pending


def _line(line: str) -> AttributeLine:
    if line.strip() == "-":
        return "-", ""
    name, _, rest = line.partition(":")
    if rest.startswith(":"):
        return name, base64.b64decode(rest[1:].strip()).decode("utf-8", "replace")
    return name, rest[1:] if rest.startswith(" ") else rest
