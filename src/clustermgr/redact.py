"""Secrets as values that never print themselves, and the redaction of free text.

A :class:`Secret` wraps a sensitive string (a password, a private key, a
passphrase).  Its ``repr`` and ``str`` are masked, so it cannot leak through an
f-string, a log call or an exception message by accident.  Every secret made in
this process is remembered (by value, in memory only) so that :func:`redact`
can scrub text that came from elsewhere, such as the stderr of a remote command
that echoed a password back.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

MASK = "********"
# Values shorter than this are not scrubbed from free text: masking "a" or "1"
# everywhere would destroy output without protecting anything real.
_MIN_REDACTABLE = 4

_known: set[str] = set()
_known_lock = threading.Lock()


def _remember(value: str) -> None:
    if len(value) < _MIN_REDACTABLE:
        return
    with _known_lock:
        _known.add(value)
        for line in value.splitlines():
            if len(line.strip()) >= _MIN_REDACTABLE * 4:
                # Multi-line secrets (private keys) are scrubbed line by line too,
                # because output often shows them one line at a time.
                _known.add(line.strip())


@dataclass(frozen=True)
class Secret:
    """A sensitive string. Use :meth:`reveal` at the one place that needs it."""

    _value: str = field(repr=False)
    label: str = "secret"

    def __post_init__(self) -> None:
        _remember(self._value)

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"Secret({self.label}={MASK})"

    def __bool__(self) -> bool:
        return bool(self._value)


def redact(text: str) -> str:
    """Return ``text`` with every known secret value replaced by the mask."""
    with _known_lock:
        # Longest first, so a secret that contains another is masked whole.
        values = sorted(_known, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return text
