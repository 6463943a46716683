"""Where jobs run: in the manager process (embedded, the default) or on queue workers.

Both runners only start :func:`execute` for a job id; the job table stays the
truth.  The embedded runner marks jobs it finds active at start-up as
interrupted: they belonged to a manager process that is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from clustermgr.core.manager import Manager
from clustermgr.jobs import store
from clustermgr.jobs.execute import execute
from clustermgr.jobs.kinds import KindCatalog

INTERRUPTED_BY_RESTART = "the manager stopped while the job ran; run it again to finish"


class Runner(Protocol):
    name: str
    #: The job kinds it runs (from the component registry).
    kinds: KindCatalog

    async def submit(self, job_id: int) -> None: ...

    async def close(self) -> None: ...


class EmbeddedRunner:
    name = "embedded"

    def __init__(self, manager: Manager, kinds: KindCatalog) -> None:
        self.manager = manager
        self.kinds = kinds
        self._tasks: dict[int, asyncio.Task[object]] = {}

    @classmethod
    async def start(cls, manager: Manager, kinds: KindCatalog) -> EmbeddedRunner:
        await store.interrupt_active(manager, cls.name, INTERRUPTED_BY_RESTART)
        return cls(manager, kinds)

    async def submit(self, job_id: int) -> None:
        task = asyncio.create_task(execute(self.manager, self.kinds, job_id), name=f"job-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job_id, None))

    async def wait(self, job_id: int) -> None:
        task = self._tasks.get(job_id)
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)

    async def close(self) -> None:
        """Stop running jobs; they are recorded as interrupted."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
