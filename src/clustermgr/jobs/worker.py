"""Scale-out: jobs run on worker processes fed by a Redis queue (taskiq).

The manager records the job (the table stays the truth) and queues its id; a
worker claims it (a queue may deliver twice: only one claim wins, see
``store.claim``) and runs the same :func:`execute` as the embedded runner.
Start workers with ``clustermgr worker``; they need the manager's settings
(database URL, secret key file, queue URL).
"""

from __future__ import annotations

from taskiq import TaskiqEvents, TaskiqState
from taskiq.kicker import AsyncKicker
from taskiq_redis import RedisStreamBroker

from clustermgr.jobs.execute import execute
from clustermgr.services.context import Manager
from clustermgr.settings import Settings

QUEUE_NAME = "clustermgr-jobs"
TASK_NAME = "clustermgr.run_job"
_DEFAULT_URL = "redis://127.0.0.1:6379/0"


def make_broker(url: str) -> RedisStreamBroker:
    return RedisStreamBroker(url=url, queue_name=QUEUE_NAME)


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
    state = await execute(_manager["current"], job_id)
    return state.value if state else "claimed elsewhere"


class QueueRunner:
    """The manager's side: hand job ids to the queue at ``url``."""

    name = "worker"

    def __init__(self, url: str) -> None:
        self._broker = make_broker(url)
        self._started = False

    async def submit(self, job_id: int) -> None:
        if not self._started:
            await self._broker.startup()
            self._started = True
        kicker: AsyncKicker[[int], str] = AsyncKicker(TASK_NAME, self._broker, labels={})
        await kicker.kiq(job_id)

    async def close(self) -> None:
        if self._started:
            await self._broker.shutdown()
            self._started = False
