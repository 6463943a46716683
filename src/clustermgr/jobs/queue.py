"""Scale-out, the manager's side: job ids handed to a Redis queue (taskiq).

The manager records the job (the table stays the truth) and queues its id; a
worker (:mod:`clustermgr.jobs.worker`) claims it and runs it.
"""

from __future__ import annotations

from taskiq.kicker import AsyncKicker
from taskiq_redis import RedisStreamBroker

from clustermgr.jobs.kinds import KindCatalog

QUEUE_NAME = "clustermgr-jobs"
TASK_NAME = "clustermgr.run_job"


def make_broker(url: str) -> RedisStreamBroker:
    return RedisStreamBroker(url=url, queue_name=QUEUE_NAME)


class QueueRunner:
    """Hand job ids to the queue at ``url``; ``kinds`` validates what is submitted."""

    name = "worker"

    def __init__(self, url: str, kinds: KindCatalog) -> None:
        self.kinds = kinds
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
