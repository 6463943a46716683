"""Secrets as values that never print themselves, and the redaction of free text.

A :class:`Secret` wraps a sensitive string (a password, a private key, a
passphrase).  Its ``repr`` and ``str`` are masked, so it cannot leak through an
f-string, a log call or an exception message by accident.

The secrets the manager *holds* (credentials opened from the vault, cluster
secrets, the passwords and keys it generates) are made with
:meth:`Secret.held`, which also registers the value so that :func:`redact` can
scrub text that came from elsewhere, such as the stderr of a remote command
that echoed a password back.  A value someone typed (a password at sign-in, a
key in a form) is a plain ``Secret(value)``: masked wherever it is shown, but
never registered, so nobody can make :func:`redact` blank chosen words from
later text, or grow the registry, by typing them.  Where such a value is used
next to free text, pass it to :func:`redact` as ``also``.

The registry is bounded (:data:`MAX_REGISTERED` values, the least recently
registered dropped first; a held secret is registered again each time it is
opened) and is matched with one compiled pattern, rebuilt only when the set of
values changes, so the cost of :func:`redact` barely grows with it.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

MASK = "********"
# Values shorter than this are not scrubbed from free text: masking "a" or "1"
# everywhere would destroy output without protecting anything real.
_MIN_REDACTABLE = 4
#: How many values the registry keeps (a multi-line secret counts once per line too).
MAX_REGISTERED = 4096


def _redactable(value: str) -> Iterator[str]:
    """The strings of ``value`` that redaction looks for."""
    if len(value) < _MIN_REDACTABLE:
        return
    yield value
    for line in value.splitlines():
        if len(line.strip()) >= _MIN_REDACTABLE * 4:
            # Multi-line secrets (private keys) are scrubbed line by line too,
            # because output often shows them one line at a time.
            yield line.strip()


def _common_prefix(first: str, last: str) -> str:
    size = 0
    for a, b in zip(first, last, strict=False):
        if a != b:
            break
        size += 1
    return first[:size]


def _alternation(values: list[str]) -> str:
    """A regular expression matching any of ``values`` (sorted, unique), longest first.

    The values are arranged as a prefix tree: at each position of the text the
    pattern follows one branch per character instead of trying every value in
    turn.  Optional tails are greedy, so the longest value that matches wins.
    """
    optional = bool(values) and values[0] == ""
    rest = values[1:] if optional else values
    branches: list[str] = []
    start = 0
    while start < len(rest):
        end = start + 1
        while end < len(rest) and rest[end][0] == rest[start][0]:
            end += 1
        group = rest[start:end]
        prefix = _common_prefix(group[0], group[-1])  # sorted: the ends bound the rest
        branches.append(re.escape(prefix) + _alternation([v[len(prefix) :] for v in group]))
        start = end
    if not branches:
        return ""
    if len(branches) == 1 and not optional:
        return branches[0]
    return "(?:" + "|".join(branches) + ")" + ("?" if optional else "")


class _Registry:
    """The held secrets' values, bounded, with the pattern that finds them."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._values: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str) -> None:
        with self._lock:
            for text in _redactable(value):
                if text in self._values:
                    self._values.move_to_end(text)
                    continue
                self._values[text] = None
                self._pattern = None
                while len(self._values) > self.capacity:
                    self._values.popitem(last=False)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, value: str) -> bool:
        with self._lock:
            return value in self._values

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._pattern = None

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._values:
                # A lookahead: it finds, at every position, the longest value
                # starting there, so overlapping values are all masked.
                self._pattern = re.compile(f"(?=({_alternation(sorted(self._values))}))")
            return self._pattern

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where the registered values occur in ``text`` (they may overlap)."""
        pattern = self._compiled()
        if pattern is None:
            return []
        return [(m.start(), m.end(1)) for m in pattern.finditer(text)]


_registry = _Registry(MAX_REGISTERED)


def registered_count() -> int:
    """How many values :func:`redact` looks for (for tests and benchmarks)."""
    return len(_registry)


def is_held(secret: Secret) -> bool:
    """Whether :func:`redact` masks ``secret`` in any text (a registered, held secret)."""
    value = secret.reveal()
    return len(value) >= _MIN_REDACTABLE and value in _registry


@dataclass(frozen=True)
class Secret:
    """A sensitive string. Use :meth:`reveal` at the one place that needs it.

    ``Secret(value)`` only masks itself; :meth:`held` is for the secrets the
    manager holds, which :func:`redact` also scrubs from free text.
    """

    _value: str = field(repr=False)
    label: str = "secret"

    @classmethod
    def held(cls, value: str, label: str = "secret") -> Secret:
        """A secret the manager holds (sealed, generated or issued by it).

        Its value is registered, so :func:`redact` masks it in any text. Never
        use this for a value from a request, a form or a prompt: those are
        ``Secret(value)``.
        """
        _registry.add(value)
        return cls(value, label)

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"Secret({self.label}={MASK})"

    def __bool__(self) -> bool:
        return bool(self._value)


def _mask(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with each run of overlapping spans replaced by one mask."""
    parts: list[str] = []
    kept = 0
    for start, end in sorted(spans):
        if end <= kept:
            continue
        if start < kept:
            kept = end
            continue
        parts.append(text[kept:start])
        parts.append(MASK)
        kept = end
    parts.append(text[kept:])
    return "".join(parts)


def redact(text: str, *also: Secret) -> str:
    """Return ``text`` with every held secret, and each of ``also``, masked."""
    spans = _registry.spans(text)
    for secret in also:
        for value in _redactable(secret.reveal()):
            start = text.find(value)
            while start != -1:
                spans.append((start, start + len(value)))
                start = text.find(value, start + 1)
    return _mask(text, spans) if spans else text
