"""Noop's job kinds (plan, apply, status) and its status: none of them reaches a server."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from clustermgr.core.manager import Manager
from clustermgr.jobs.kinds import JobContext, JobKind, NoParams


class NoopParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(default="hello", max_length=40, description="Echoed in the report.")


@dataclass(frozen=True)
class NoopReport:
    cluster: str
    message: str
    applied: bool
    ok: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def set_up_in(manager: Manager) -> list[str]:
    """Set up on every cluster of the inventory."""
    async with manager.store() as inventory:
        return [c.name for c in await inventory.clusters()]


async def status(manager: Manager, cluster: str) -> NoopReport:
    return NoopReport(cluster, "status", applied=False, ok=cluster in await set_up_in(manager))


async def _plan(ctx: JobContext[NoopParams]) -> NoopReport:
    return NoopReport(ctx.cluster, ctx.params.message, applied=False)


async def _apply(ctx: JobContext[NoopParams]) -> NoopReport:
    return NoopReport(ctx.cluster, ctx.params.message, applied=True)


async def _status(ctx: JobContext[NoParams]) -> NoopReport:
    return await status(ctx.manager, ctx.cluster)


PLAN = JobKind("noop-plan", "plan nothing", False, _plan, NoopParams)
APPLY = JobKind("noop-apply", "apply nothing", True, _apply, NoopParams)
STATUS = JobKind("noop-status", "noop status", False, _status, NoParams)
