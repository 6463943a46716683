"""The ``keys`` section of a cluster's settings (pure): how long a token lives, and how
often the keys rotate.

``token_lifetime`` is how long the identity app's access and id tokens are valid
(oxAuth's ``accessTokenLifetime``; the lab app's ``--token-lifetime``).  A rotation
removes the old key only this long after the new one started signing, so no token
the old key signed is still valid when it goes: keep it at least the app's own.
``rotate_every_days`` (None: never) has the watcher start a rotation when the last
one is that old.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from clustermgr.errors import InvalidInput
from clustermgr.validation import range_in_words, whole_in_range

TOKEN_LIFETIME_KEY = "token_lifetime"  # noqa: S105 (a setting's name)
ROTATE_EVERY_DAYS_KEY = "rotate_every_days"
#: oxAuth's default token lifetime, in seconds.
DEFAULT_TOKEN_LIFETIME = 3600
TOKEN_LIFETIME_RANGE = (10, 7 * 24 * 3600)
ROTATE_EVERY_DAYS_RANGE = (1, 3650)
_RANGES = {TOKEN_LIFETIME_KEY: TOKEN_LIFETIME_RANGE, ROTATE_EVERY_DAYS_KEY: ROTATE_EVERY_DAYS_RANGE}
#: The keys a person may change, in the order they are shown.
EDITABLE = (TOKEN_LIFETIME_KEY, ROTATE_EVERY_DAYS_KEY)
#: May be set back to "off" (None).
_OPTIONAL = frozenset({ROTATE_EVERY_DAYS_KEY})


def allowed(key: str) -> str:
    """The range of ``key`` in words: ``10 to 604,800``."""
    return range_in_words(*_RANGES[key])


def checked_whole(key: str, value: object) -> int:
    """``value`` as a whole number in ``key``'s range; InvalidInput naming both otherwise."""
    return whole_in_range(key, value, *_RANGES[key])


@dataclass(frozen=True)
class KeysSettings:
    token_lifetime: int = DEFAULT_TOKEN_LIFETIME
    rotate_every_days: int | None = None

    @property
    def lifetime(self) -> timedelta:
        return timedelta(seconds=self.token_lifetime)

    def as_dict(self) -> dict[str, Any]:
        return {
            TOKEN_LIFETIME_KEY: self.token_lifetime,
            ROTATE_EVERY_DAYS_KEY: self.rotate_every_days,
        }


def keys_settings(section: Mapping[str, Any]) -> KeysSettings:
    """The settings a cluster's ``keys`` section asks for (the defaults where it does not)."""
    return changed(KeysSettings(), {k: section[k] for k in EDITABLE if section.get(k) is not None})


def changed(current: KeysSettings, update: Mapping[str, Any]) -> KeysSettings:
    """``current`` with the values of ``update``, each checked.  ``rotate_every_days``
    given as None or "" turns the schedule off; any other None leaves a value as it
    is.  InvalidInput names an unknown key or the first value not allowed."""
    unknown = sorted(set(update) - set(EDITABLE))
    if unknown:
        raise InvalidInput(
            f"unknown keys setting {', '.join(map(repr, unknown))}",
            hint="the keys settings are " + ", ".join(EDITABLE),
        )
    values = current.as_dict()
    for key, value in update.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            if key in _OPTIONAL:
                values[key] = None
            continue
        values[key] = checked_whole(key, value)
    return KeysSettings(**values)
