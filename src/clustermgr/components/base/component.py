"""The base preparation: packages and the managed /etc/hosts block, and the preflight check."""

from __future__ import annotations

from pathlib import Path

from clustermgr.components.contract import Component, Parts


def _parts() -> Parts:
    from clustermgr.components.base import jobs

    # No leave part: a removal must not wait on every other server's hosts file (one
    # that is down would stop it); the next base apply drops the name that left.
    return Parts(plan=jobs.PLAN, apply=jobs.APPLY, kinds=(jobs.PREFLIGHT,))


COMPONENT = Component(
    name="base",
    title="Base preparation",
    summary="packages and /etc/hosts on every server",
    parts=_parts,
    templates=Path(__file__).parent / "templates",
)
