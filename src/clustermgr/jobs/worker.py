"""Scale-out, the worker's side: jobs run on worker processes fed by a Redis queue.

The manager records the job (the table stays the truth) and queues its id
(:mod:`clustermgr.jobs.queue`); a worker claims it (a queue may deliver twice:
only one claim wins, see ``store.claim``) and runs the same :func:`execute` as the embedded runner.
Start workers with ``clustermgr worker``; they need the manager's settings
(database URL, secret key file, queue URL).
"""

from __future__ import annotations

from taskiq import TaskiqEvents, TaskiqState

import clustermgr.quiet  # noqa: F401 (first: AsyncSSH's import warnings are silenced)
from clustermgr.components import registry
from clustermgr.core.manager import Manager
from clustermgr.jobs.execute import execute
from clustermgr.jobs.queue import TASK_NAME, make_broker
from clustermgr.settings import Settings

_DEFAULT_URL = "redis://127.0.0.1:6379/0"


#: The workers' broker (``taskiq worker clustermgr.jobs.worker:broker``), from their settings.
broker = make_broker(Settings().queue_url or _DEFAULT_URL)
_manager: dict[str, Manager] = {}


@broker.on_event(TaskiqEvents.WORKER_STARTUP)
async def _open(_: TaskiqState) -> None:
    _manager["current"] = await Manager.open()


@broker.on_event(TaskiqEvents.WORKER_SHUTDOWN)
async def _close(_: TaskiqState) -> None:
    manager = _manager.pop("current", None)
    if manager is not None:
        await manager.close()


@broker.task(task_name=TASK_NAME)
async def run_job(job_id: int) -> str:
    state = await execute(_manager["current"], registry.job_kinds(), job_id)
    return state.value if state else "claimed elsewhere"
