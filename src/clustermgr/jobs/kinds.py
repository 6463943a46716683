"""What a job can do: each kind names its work, its params, whether it changes servers.

A kind's ``run`` gets a :class:`JobContext` (its params already validated by the
kind's pydantic model) and returns a :class:`Report`: the job succeeded when the
report is ``ok``, and ``as_dict()`` is what the job row keeps.  It reports
progress through ``ctx.emit`` and stops between steps once ``ctx.cancelled()`` is
true.  The same code runs in the manager process and in queue workers.

Kinds are declared by the components (see :mod:`clustermgr.components.registry`);
a :class:`KindCatalog` of them is handed to whatever runs or starts jobs.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from clustermgr.auth.roles import UserRole
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput
from clustermgr.plan.events import Emit, Event, EventKind
from clustermgr.plan.model import ApplyReport


class Report(Protocol):
    """The outcome of a job: whether it went well, and the data its record keeps."""

    @property
    def ok(self) -> bool: ...

    def as_dict(self) -> dict[str, Any]: ...


#: Keys a job's stored params may carry besides the kind's own: where the job came from
#: (the plan it applies, the job it runs again) and the digest of the plan a person
#: reviewed before asking to apply it.
ORIGIN_KEYS = ("plan_job", "rerun_of", "plan_digest")

_DIGEST = re.compile(r"[0-9a-f]{64}")


def split_origin(raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``raw`` as the kind's params and the job's origin.  Job ids must be integers and
    a plan digest 64 lowercase hex digits: anything else is InvalidInput."""
    origin = {k: v for k, v in raw.items() if k in ORIGIN_KEYS}
    for key, value in origin.items():
        if key == "plan_digest":
            if not (isinstance(value, str) and _DIGEST.fullmatch(value)):
                raise InvalidInput(
                    "plan_digest must be 64 lowercase hex digits",
                    hint="copy it from the plan job's result (its digest)",
                )
        elif type(value) is not int or value < 1:
            raise InvalidInput(f"{key} must be a job number", hint="a positive integer")
    return {k: v for k, v in raw.items() if k not in origin}, origin


class NoParams(BaseModel):
    """The params of a kind that takes none."""

    model_config = ConfigDict(extra="forbid")


P = TypeVar("P", bound=BaseModel)


@dataclass(frozen=True)
class JobContext(Generic[P]):
    manager: Manager
    cluster: str
    params: P
    emit: Emit
    cancelled: Callable[[], bool]
    #: Who asked for the job (a user name): services audit changes under it.
    actor: str = "system"
    #: The digest of the plan the person reviewed: an apply changes nothing unless a
    #: fresh plan has the same one.
    plan_digest: str | None = None


@dataclass(frozen=True)
class JobKind(Generic[P]):
    name: str
    title: str
    #: Changes servers: at most one such job per cluster at a time.
    mutating: bool
    run: Callable[[JobContext[P]], Awaitable[Report]]
    params: type[P]
    #: For a plan: the kind that applies it (offered on the plan's page once it succeeded).
    applied_by: str | None = None
    #: A template (from its component's folder) showing the job's result on its page;
    #: it sees the job as ``job``.
    report_template: str | None = None
    #: The role that may start it.  Operator by default, read-only kinds included: every
    #: job opens root SSH sessions on the servers, so viewers start none.
    role: UserRole = UserRole.OPERATOR
    #: The components a mutating job of this kind changes: the watcher leaves them alone
    #: while it runs.  ``None``: every component of the cluster.  Left empty, the
    #: component declaring the kind puts its own name here (``Component.job_kinds``).
    touches: frozenset[str] | None = frozenset()

    def parse(self, raw: Mapping[str, Any] | None) -> P:
        """``raw`` as this kind's params, or InvalidInput saying what is wrong."""
        try:
            return self.params.model_validate(split_origin(raw or {})[0])
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}"
                for e in exc.errors()
            )
            raise InvalidInput(
                f"invalid params for {self.name}: {problems}",
                hint=f"see the {self.name} params in /api/v1/openapi.json",
            ) from None


#: A component's change, run as its plan (``dry_run``) or as its apply.
PlanOrApply = Callable[[JobContext[P], bool], Awaitable["ApplyReport"]]


@dataclass(frozen=True)
class PlanChanged:
    """An apply that changed nothing: the fresh plan is not the one that was reviewed."""

    plan: ApplyReport
    reviewed: str

    @property
    def ok(self) -> bool:
        return False

    @property
    def message(self) -> str:
        return (
            "the plan changed since it was reviewed (a server or the inventory changed): "
            "nothing was changed; review the new plan below and apply it"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.plan.as_dict(),
            "ok": False,
            "plan_changed": True,
            "reviewed_digest": self.reviewed,
            "message": self.message,
        }


async def reviewed_apply(ctx: JobContext[P], run: PlanOrApply[P]) -> ApplyReport | PlanChanged:
    """Apply, or, when the context carries a reviewed plan's digest that a fresh plan no
    longer has, change nothing and return the fresh plan for review."""
    if ctx.plan_digest is not None:
        fresh = await run(ctx, True)
        if fresh.digest != ctx.plan_digest:
            refused = PlanChanged(fresh, ctx.plan_digest)
            ctx.emit(Event(EventKind.PLAN_FINISHED, refused.message))
            return refused
    return await run(ctx, False)


def plan_and_apply(
    plan: str, apply: str, what: str, run: PlanOrApply[P], params: type[P]
) -> tuple[JobKind[P], JobKind[P]]:
    """The plan kind (reads only) and the apply kind (changes servers) of one change.
    The apply honours a reviewed plan's digest (see :func:`reviewed_apply`)."""

    async def planned(ctx: JobContext[P]) -> Report:
        return await run(ctx, True)

    async def applied(ctx: JobContext[P]) -> Report:
        return await reviewed_apply(ctx, run)

    return (
        JobKind(plan, f"plan {what}", False, planned, params),
        JobKind(apply, f"apply {what}", True, applied, params),
    )


class KindCatalog:
    """The job kinds a runner knows, by name, in the order they were declared."""

    def __init__(self, kinds: Iterable[JobKind[Any]]) -> None:
        self._kinds: dict[str, JobKind[Any]] = {}
        for kind in kinds:
            if kind.name in self._kinds:
                raise ValueError(f"job kind {kind.name!r} is declared twice")
            self._kinds[kind.name] = kind

    def get(self, name: str) -> JobKind[Any]:
        try:
            return self._kinds[name]
        except KeyError:
            raise InvalidInput(
                f"unknown job kind {name!r}", hint=f"one of: {', '.join(self._kinds)}"
            ) from None

    def find(self, name: str) -> JobKind[Any] | None:
        return self._kinds.get(name)

    @property
    def names(self) -> list[str]:
        return list(self._kinds)

    def __iter__(self) -> Iterator[JobKind[Any]]:
        return iter(self._kinds.values())

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def touches(self, kind: str, component: str) -> bool:
        """Whether a running job of ``kind`` changes ``component``.  A kind this catalog
        does not know, or a mutating one that names no component, may change anything."""
        found = self._kinds.get(kind)
        if found is None or found.touches is None or (found.mutating and not found.touches):
            return True
        return component in found.touches
