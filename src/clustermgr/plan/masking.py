"""The diff of a file that holds secrets, each secret masked line by line (pure).

A sensitive :class:`~clustermgr.plan.model.FileChange` carries the secrets its
content holds.  Both versions of the file are masked before they are shown:

- every value :func:`~clustermgr.redact.redact` knows (the secrets given, and
  every other secret the manager holds) becomes ``********``;
- in the current file, a line that sets the same key as a line of the new
  content holding a secret (``requirepass``, ``redis_auth:``, a PSK file's
  ``identity:``) is masked after that key, so a value the manager no longer
  holds (the secret being replaced) is masked too;
- the current file may hold secrets nobody declared (written by hand, under
  another key): there, the value of any key that names a secret (``pass``,
  ``auth``, ``secret``, ``psk``, ``token``, ``key``, ``credential``) and every
  word shaped like a generated secret (16 or more letters and digits mixed)
  are masked too.

Lines are compared as they are and shown masked: a line whose secret changes
shows as changed, with the mask on both sides; lines without secrets diff as
usual.  Fail closed: without secrets, with a secret the manager does not hold,
one the new content does not contain, or one that is a whole line (no key to
find its old value by), nothing is shown but that the file changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from clustermgr.plan.diffs import hidden, unified
from clustermgr.redact import MASK, Secret, is_held, redact

#: A key and what follows the secret on its line: ``("requirepass", "")``.
Key = tuple[str, str]

#: A key naming a secret, its separator, and its value (the rest of the line).
_SECRET_SETTING = re.compile(
    r"^(\s*[^\s=:]*(?:pass|auth|secret|psk|token|key|credential)[^\s=:]*[\s=:]+)(\S.*)$",
    re.IGNORECASE,
)
#: A word shaped like a generated secret: 16+ characters of a token's alphabet.
_TOKEN = re.compile(r"(?<![A-Za-z0-9_~+/=-])[A-Za-z0-9_~+/=-]{16,}(?![A-Za-z0-9_~+/=-])")


def masked_diff(path: str, old: str | None, new: str, secrets: Sequence[Secret]) -> str:
    """The diff of ``old`` to ``new`` with the secrets masked, or only that it changes."""
    keys = secret_keys(new, secrets)
    if keys is None:
        return hidden(path, "holds secrets")
    old_lines = None if old is None else old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    return unified(
        path,
        old_lines,
        new_lines,
        shown_old=None if old_lines is None else [guarded(x, keys, secrets) for x in old_lines],
        shown_new=[mask_line(x, keys, secrets) for x in new_lines],
    )


def secret_keys(new: str, secrets: Sequence[Secret]) -> list[Key] | None:
    """The keys the secrets are set under in ``new``; None when masking cannot be trusted."""
    if not secrets or not all(is_held(s) for s in secrets):
        return None
    values = [s.reveal() for s in secrets]
    if any(value not in new or "\n" in value for value in values):
        return None
    keys: list[Key] = []
    for line in new.splitlines():
        found = [(line.find(v), v) for v in values if v in line]
        if not found:
            continue
        start, value = min(found)
        key = line[:start].strip()
        if not key:
            return None
        keys.append((key, line[start + len(value) :].strip()))
    return keys


def mask_line(line: str, keys: Sequence[Key], secrets: Sequence[Secret]) -> str:
    """``line`` with held secrets masked, and its value masked if it sets a secret's key."""
    text = redact(line, *secrets)
    body = text.rstrip("\r\n")
    end = text[len(body) :]
    stripped = body.lstrip()
    indent = body[: len(body) - len(stripped)]
    for key, suffix in keys:
        if not stripped.startswith(key):
            continue
        rest = stripped[len(key) :]
        value = rest.lstrip()
        space = rest[: len(rest) - len(value)]
        tail = suffix if suffix and value.endswith(suffix) and len(value) > len(suffix) else ""
        return f"{indent}{key}{space}{MASK}{tail}{end}"
    return text


def guarded(line: str, keys: Sequence[Key], secrets: Sequence[Secret]) -> str:
    """A line of the current file: :func:`mask_line`, then secrets nobody declared."""
    text = mask_line(line, keys, secrets)
    body = text.rstrip("\r\n")
    end = text[len(body) :]
    setting = _SECRET_SETTING.match(body)
    if setting and setting.group(2).replace(MASK, "").strip("\"' "):
        body = setting.group(1) + MASK
    return _TOKEN.sub(_token_mask, body) + end


def _token_mask(found: re.Match[str]) -> str:
    word = found.group(0)
    mixed = any(c.isdigit() for c in word) and any(c.isalpha() for c in word)
    return MASK if mixed else word
