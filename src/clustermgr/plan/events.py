"""Events the executor emits while it works. Core code never prints: it emits.

Front ends subscribe: the CLI prints them, the job runner stores them, the GUI
streams them.  Every message is redacted before it leaves the executor.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from clustermgr.plan.model import Outcome
from clustermgr.redact import redact


class EventKind(StrEnum):
    PLAN_STARTED = "plan_started"
    STEP_STARTED = "step_started"
    STEP_OUTPUT = "step_output"
    STEP_FINISHED = "step_finished"
    HOST_FAILED = "host_failed"
    #: A preflight check's verdict (pass, warn, fail in ``outcome``'s place: see message).
    CHECK = "check"
    PLAN_FINISHED = "plan_finished"


@dataclass(frozen=True)
class Event:
    kind: EventKind
    message: str
    host: str | None = None
    step: str | None = None
    outcome: Outcome | None = None
    at: float = field(default_factory=time.time)
    #: Progress through a plan: how many of its steps ran so far (``step_finished``;
    #: 0 on ``plan_started``) and how many it has (``planned``).  None on every
    #: other event, and on events stored before progress was counted.
    done: int | None = None
    planned: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", redact(self.message))

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "message": self.message,
            "host": self.host,
            "step": self.step,
            "outcome": self.outcome.value if self.outcome else None,
            "at": self.at,
            "done": self.done,
            "planned": self.planned,
        }


Emit = Callable[[Event], None]


def ignore(_: Event) -> None:
    """An emitter for callers that do not listen."""
