"""``clustermgr worker``: run queued jobs (scale-out; see jobs/worker.py)."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Annotated

import typer

from clustermgr.cli.output import fail
from clustermgr.errors import InvalidInput
from clustermgr.settings import Settings


def worker(
    processes: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
) -> None:
    """Run jobs from the queue at CLUSTERMGR_QUEUE_URL until stopped."""
    if not Settings().queue_url:
        raise fail(
            InvalidInput(
                "CLUSTERMGR_QUEUE_URL is not set: there is no queue to work for",
                hint="set it to the Redis URL the manager uses, e.g. redis://host/0",
            ),
            as_json=False,
        )
    taskiq = shutil.which("taskiq", path=os.path.dirname(sys.executable)) or "taskiq"
    os.execv(
        taskiq,
        [
            taskiq,
            "worker",
            "clustermgr.jobs.worker:broker",
            "--workers",
            str(processes),
            "--shutdown-timeout",
            "3",
        ],
    )
