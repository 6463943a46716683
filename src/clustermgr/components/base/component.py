"""The base preparation: packages and the managed /etc/hosts block, and the preflight check."""

from __future__ import annotations

from pathlib import Path

from clustermgr.components.contract import Component, Parts, applying


def _parts() -> Parts:
    from clustermgr.components.base import jobs

    return Parts(
        plan=jobs.PLAN,
        apply=jobs.APPLY,
        kinds=(jobs.PREFLIGHT,),
        # The others' /etc/hosts without a node that leaves (it is not contacted).
        leave=applying(jobs.APPLY),
    )


COMPONENT = Component(
    name="base",
    title="Base preparation",
    summary="packages and /etc/hosts on every server",
    parts=_parts,
    templates=Path(__file__).parent / "templates",
)
