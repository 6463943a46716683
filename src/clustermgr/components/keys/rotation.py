"""A rotation's phases and its state (pure).

A rotation replaces the signing key without a token ever being refused:

1. ``add``: the new key joins every node's keystore; the rotation goes on once
   every node publishes it in its JWKS (a token it signs will verify everywhere).
2. ``sign``: the new key signs; every node holds that keystore.  Tokens the old
   key signed still verify: it is still in every keystore.
3. ``remove``: once the token lifetime has passed since the new key started
   signing (no valid token the old key signed is left), the old keys go.

:class:`Rotation` is the state kept in the inventory between phases, so a rotation
that stopped (a node out of reach, a cancelled job, a manager restart) goes on
where it stopped when run again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from clustermgr.components.keys import keystore
from clustermgr.components.keys.keystore import Document
from clustermgr.errors import InvalidInput


class Phase(StrEnum):
    ADD = "add"
    SIGN = "sign"
    REMOVE = "remove"


ORDER = (Phase.ADD, Phase.SIGN, Phase.REMOVE)
TITLES = {
    Phase.ADD: "add the new key",
    Phase.SIGN: "sign with the new key",
    Phase.REMOVE: "remove the old keys",
}


def _short(kid: str) -> str:
    return kid[:12]


@dataclass(frozen=True)
class Rotation:
    """A rotation in progress: the phase it is in (not done yet)."""

    new_kid: str
    old_kids: tuple[str, ...]
    phase: Phase
    started: datetime
    #: When every node held the keystore in which the new key signs (phase ``remove``).
    signing_since: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "new_kid": self.new_kid,
            "old_kids": list(self.old_kids),
            "phase": self.phase.value,
            "started": self.started.isoformat(),
            "signing_since": self.signing_since.isoformat() if self.signing_since else None,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Rotation:
        try:
            since = raw.get("signing_since")
            return cls(
                new_kid=str(raw["new_kid"]),
                old_kids=tuple(str(k) for k in raw["old_kids"]),
                phase=Phase(raw["phase"]),
                started=datetime.fromisoformat(raw["started"]),
                signing_since=datetime.fromisoformat(since) if since else None,
            )
        except (KeyError, TypeError, ValueError):
            raise InvalidInput(
                "the rotation kept in the cluster's keys settings cannot be read",
                hint="`clustermgr keys status` shows it; the cluster's settings hold it",
            ) from None

    def removable_at(self, lifetime: timedelta) -> datetime | None:
        """When the old keys may go (None before the new key signs)."""
        return None if self.signing_since is None else self.signing_since + lifetime

    def advanced(self, now: datetime) -> Rotation | None:
        """The state once this phase is done everywhere (None: the rotation is over)."""
        if self.phase is Phase.ADD:
            return Rotation(self.new_kid, self.old_kids, Phase.SIGN, self.started)
        if self.phase is Phase.SIGN:
            return Rotation(self.new_kid, self.old_kids, Phase.REMOVE, self.started, now)
        return None


def start(document: Mapping[str, Any], jwk: Mapping[str, Any], now: datetime) -> Rotation:
    """A new rotation of ``document``'s keys to ``jwk``: every key it has now is old."""
    return Rotation(str(jwk["kid"]), tuple(keystore.kids(document)), Phase.ADD, now)


def phases_left(rotation: Rotation | None) -> tuple[Phase, ...]:
    """The phases a run still has to do (all three when none is in progress)."""
    if rotation is None:
        return ORDER
    return ORDER[ORDER.index(rotation.phase) :]


def edited(
    document: Mapping[str, Any], rotation: Rotation, jwk: Mapping[str, Any] | None
) -> Document:
    """The keystore once ``rotation``'s phase is done (``jwk``: the new key, needed only
    to add it).  Done twice, it is the same document: a phase resumes safely."""
    if rotation.phase is Phase.ADD:
        if rotation.new_kid in keystore.kids(document):
            return dict(document)
        if jwk is None:
            raise InvalidInput(f"the new key {_short(rotation.new_kid)} is not in the keystore")
        return keystore.with_key(document, jwk)
    if rotation.new_kid not in keystore.kids(document):
        raise InvalidInput(
            f"the new key {_short(rotation.new_kid)} is no longer in the sealed keystore",
            hint="the keystore was replaced while rotating: `clustermgr keys rotate --restart`",
        )
    if rotation.phase is Phase.SIGN:
        return keystore.with_signing_key(document, rotation.new_kid)
    return keystore.without_keys(document, rotation.old_kids)


def describe(phase: Phase, rotation: Rotation | None, lifetime: timedelta, now: datetime) -> str:
    """What ``phase`` does, in a sentence (for the plan)."""
    new = _short(rotation.new_kid) if rotation else "the new key"
    old = ", ".join(_short(k) for k in rotation.old_kids) if rotation else "the keys there now"
    if phase is Phase.ADD:
        made = new if rotation else "a new key (ES256, made by the manager)"
        return (
            f"add {made} to the sealed keystore and write it to every identity node; "
            "wait until every node publishes it in its JWKS"
        )
    if phase is Phase.SIGN:
        return (
            f"make {new} the signing key and write it to every identity node; "
            f"tokens signed by {old} still validate"
        )
    when = rotation.removable_at(lifetime) if rotation else None
    if when is None:
        wait = f"{int(lifetime.total_seconds())} s (the token lifetime) after the new key signs"
    elif when <= now:
        wait = "now (the token lifetime has passed since the new key signs)"
    else:
        wait = f"at {when.isoformat(timespec='seconds')} (the token lifetime after it signs)"
    return f"remove {old} from the sealed keystore and from every identity node: {wait}"
