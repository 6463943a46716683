"""Signing keys: the identity app's token signing keys, rotated without a token ever
being refused (a new key published everywhere, then signing, then the old one gone
once no token it signed is valid), on demand or on a schedule."""

from __future__ import annotations

from pathlib import Path

from clustermgr.components.contract import Component, Parts, loads


def _parts() -> Parts:
    from clustermgr.components.keys import jobs
    from clustermgr.components.keys.status import status
    from clustermgr.components.keys.store import sealed_clusters
    from clustermgr.components.keys.watch import KeysWatch

    return Parts(
        kinds=(jobs.PLAN, jobs.ROTATE, jobs.STATUS),
        status=status,
        set_up_in=sealed_clusters,
        watch=KeysWatch,
    )


COMPONENT = Component(
    name="keys",
    title="Signing keys",
    summary="the keys that sign the identity app's tokens, and their rotation",
    parts=_parts,
    cli=loads(f"{__package__}.cli", "app"),
    cli_help="The identity app's token signing keys: status and rotation.",
    api=loads(f"{__package__}.api", "router"),
    pages=loads(f"{__package__}.pages", "router"),
    has_page=True,
    templates=Path(__file__).parent / "templates",
    needs=("files",),
    # Its watcher part only starts scheduled rotations: it opens no alert.
    setup_alerts=(),
)
