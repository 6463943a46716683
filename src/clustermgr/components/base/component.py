"""The base preparation: packages and the managed /etc/hosts block, and the preflight check."""

from __future__ import annotations

from pathlib import Path

from clustermgr.components.base import jobs
from clustermgr.components.contract import Component

COMPONENT = Component(
    name="base",
    title="Base preparation",
    summary="packages and /etc/hosts on every server",
    plan=jobs.PLAN,
    apply=jobs.APPLY,
    kinds=(jobs.PREFLIGHT,),
    templates=Path(__file__).parent / "templates",
)
