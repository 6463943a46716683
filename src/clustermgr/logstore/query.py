"""The log search language: words, "quoted phrases", filters and exclusions.

``parse_query`` turns what a user typed into a :class:`LogQuery`:

- ``word``: records that contain the word (every word must be there);
- ``"a phrase"``: the words in this order, next to each other;
- ``-word`` / ``-"a phrase"``: records without it;
- ``host:NAME``, ``source:ID``: that host, that source (repeat a filter for "any of");
- ``level:error`` exactly that level; ``level:>=warning`` that level or worse;
- ``status:502`` or ``status:5xx``: the HTTP status a record carries.

A word or phrase is searched as the letters-and-digits runs it holds, in order:
``10.0.0.5`` is the run ``10 0 0 5`` and matches that address, ``conn=1001``
matches ``conn=1001`` (and ``conn 1001``).  Both stores search terms only through
these runs, so nothing a user types reaches a search engine as its own syntax.
Anything the language cannot read is an :class:`~clustermgr.errors.InvalidInput`
that says what to type instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from clustermgr.errors import InvalidInput
from clustermgr.logstore.records import LEVELS

#: The longest query read, in characters, and the most words and phrases in one.
MAX_QUERY = 1000
MAX_TERMS = 24
FILTERS = ("host", "source", "level", "status")
_FILTER_HINT = "filters are host:NAME, source:ID, level:LEVEL (or level:>=LEVEL), status:502/5xx"

#: A run of letters and digits: what a term is searched as.
_TOKEN = re.compile(r"[^\W_]+")
#: ``name:value`` where name is a plain word: a filter (or a mistyped one).
_FILTER = re.compile(r"([A-Za-z]+):(.*)", re.DOTALL)
_STATUS = re.compile(r"([1-5])(\d\d|xx)", re.IGNORECASE)


def tokens(text: str) -> tuple[str, ...]:
    """The letter-and-digit runs of ``text``, lower-cased: what a term is searched as."""
    return tuple(t.lower() for t in _TOKEN.findall(text))


@dataclass(frozen=True)
class Term:
    """One word or phrase as typed, and the runs it is searched as (never empty)."""

    text: str
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class LogQuery:
    """A parsed query; an empty one matches every record."""

    terms: tuple[Term, ...] = ()
    excluded: tuple[Term, ...] = ()
    hosts: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    levels: frozenset[str] = frozenset()
    #: Inclusive ranges of statuses: ``502`` is (502, 502), ``5xx`` (500, 599).
    statuses: tuple[tuple[int, int], ...] = ()
    text: str = field(default="", compare=False)

    @property
    def has_text(self) -> bool:
        return bool(self.terms or self.excluded)

    def highlight_terms(self) -> list[str]:
        """The words and phrases to highlight in the records found, as typed."""
        return [t.text for t in self.terms]


def parse_query(text: str) -> LogQuery:
    """Read a query; :class:`InvalidInput` (with a hint) when it cannot be read."""
    if len(text) > MAX_QUERY:
        raise InvalidInput(
            f"the query is {len(text)} characters long, the most is {MAX_QUERY}",
            hint="search for fewer or shorter words",
        )
    parts = _split(text)
    if len(parts) > MAX_TERMS:
        raise InvalidInput(
            f"the query has {len(parts)} parts, the most is {MAX_TERMS}",
            hint="search for fewer words",
        )
    terms: list[Term] = []
    excluded: list[Term] = []
    found: dict[str, list[str]] = {name: [] for name in FILTERS}
    for raw, quoted in parts:
        negated = False
        if raw.startswith("-") and (len(raw) > 1 or quoted):
            negated, raw = True, raw[1:]
        filt = None if quoted else _FILTER.fullmatch(raw)
        if filt is not None:
            name, value = filt.group(1).lower(), filt.group(2)
            if name in FILTERS:
                if negated:
                    raise InvalidInput(
                        f"a filter cannot be excluded: -{raw}",
                        hint=f"give the {name}s to keep instead",
                    )
                if not value:
                    raise InvalidInput(f"the filter {name}: has no value", hint=_FILTER_HINT)
                found[name].append(value)
                continue
            raise InvalidInput(
                f"unknown filter {name}:",
                hint=f'{_FILTER_HINT}; to search for the text, quote it: "{raw}"',
            )
        term = Term(raw, tokens(raw))
        if not term.tokens:
            raise InvalidInput(
                f"nothing to search for in {raw!r}: it has no letter or digit",
                hint='search for words; quote text that holds spaces: "a phrase"',
            )
        (excluded if negated else terms).append(term)
    return LogQuery(
        terms=tuple(terms),
        excluded=tuple(excluded),
        hosts=frozenset(found["host"]),
        sources=frozenset(found["source"]),
        levels=frozenset(lv for value in found["level"] for lv in _levels(value)),
        statuses=tuple(_status(value) for value in found["status"]),
        text=text,
    )


def _split(text: str) -> list[tuple[str, bool]]:
    """The query's parts (split at spaces outside quotes, quotes taken out), each with
    whether it held a quote: ``-"x y"`` and ``dn="cn=a b"`` are one part each."""
    parts: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        chars: list[str] = []
        quoted = False
        while i < n and not text[i].isspace():
            if text[i] != '"':
                chars.append(text[i])
                i += 1
                continue
            close = text.find('"', i + 1)
            if close < 0:
                raise InvalidInput(
                    f"a quote is not closed: {text[i : i + 40]}",
                    hint='close the phrase with a second ": "connection refused"',
                )
            chars.append(text[i + 1 : close])
            quoted, i = True, close + 1
        parts.append(("".join(chars), quoted))
    return parts


def _levels(value: str) -> tuple[str, ...]:
    at_least = value.startswith(">=")
    name = value[2:].lower() if at_least else value.lower()
    if name not in LEVELS:
        raise InvalidInput(
            f"unknown level {name!r}",
            hint=f"levels are {', '.join(LEVELS)}; level:>=warning means warning or worse",
        )
    return LEVELS[LEVELS.index(name) :] if at_least else (name,)


def _status(value: str) -> tuple[int, int]:
    match = _STATUS.fullmatch(value)
    if match is None:
        raise InvalidInput(
            f"bad status {value!r}", hint="give an HTTP status (100 to 599) like 502, or 5xx"
        )
    if match.group(2).lower() == "xx":
        base = int(match.group(1)) * 100
        return base, base + 99
    return int(value), int(value)
