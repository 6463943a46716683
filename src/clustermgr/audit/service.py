"""Writing and reading the audit trail.

An entry says who (``actor``: a user name, ``cli:<os user>`` for the command
line, ``system`` for the manager itself) did what (``action``: a dotted verb
such as ``login`` or ``token.create``) to what (``target``), with what
``result`` (``ok``, ``failed``, ``refused``) and a small JSON ``detail``.

Every string that goes into an entry passes through :func:`redact`, and a
:class:`Secret` is stored as the mask: the trail never holds a secret value.
Services that change data write their entry with :func:`add_entry` in the same
transaction as the change; :func:`record` is the stand-alone form.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clustermgr.audit.models import AuditEntry
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import ClustermgrError, InvalidInput
from clustermgr.redact import MASK, Secret, redact

MAX_ENTRIES = 1000
_ACTOR_LEN = 64
_ACTION_LEN = 64
_TARGET_LEN = 255
_RESULT_LEN = 32

#: Error codes whose entry says ``refused`` (anything else that failed is ``failed``).
REFUSED = frozenset(
    {
        "job_conflict",
        "host_key_unknown",
        "host_key_changed",
        "host_key_mismatch",
        "already_exists",
        "forbidden",
    }
)


@dataclass(frozen=True)
class AuditView:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    result: str
    detail: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "result": self.result,
            "detail": dict(self.detail),
        }


def _clean(value: object) -> Any:
    """A JSON-able copy of ``value`` with every string redacted."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {redact(str(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v) for v in value]
    return redact(str(value))


def _fit(text: str, length: int) -> str:
    return redact(text)[:length]


def add_entry(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    target: str = "",
    result: str = "ok",
    detail: Mapping[str, object] | None = None,
) -> None:
    """Add an entry to the caller's transaction (it is written when that commits)."""
    session.add(
        AuditEntry(
            at=utcnow(),
            actor=_fit(actor, _ACTOR_LEN),
            action=_fit(action, _ACTION_LEN),
            target=_fit(target, _TARGET_LEN),
            result=_fit(result, _RESULT_LEN),
            detail=_clean(detail or {}),
        )
    )


async def record(
    manager: Manager,
    *,
    actor: str,
    action: str,
    target: str = "",
    result: str = "ok",
    detail: Mapping[str, object] | None = None,
) -> None:
    """Write one entry in its own transaction."""
    async with manager.db.session() as session:
        add_entry(session, actor=actor, action=action, target=target, result=result, detail=detail)


@dataclass
class Outcome:
    """What the entry of an :func:`audited` block will say; the block may change both."""

    result: str = "ok"
    detail: dict[str, object] = field(default_factory=dict)


def result_of(exc: ClustermgrError) -> str:
    return "refused" if exc.code in REFUSED else "failed"


@asynccontextmanager
async def audited(
    manager: Manager,
    *,
    actor: str,
    action: str,
    target: str,
    detail: Mapping[str, object] | None = None,
) -> AsyncIterator[Outcome]:
    """Write one entry once the block ends: its outcome, or ``refused``/``failed`` with the
    error code when it raised (the error goes on)."""
    outcome = Outcome(detail=dict(detail or {}))
    try:
        yield outcome
    except ClustermgrError as exc:
        error = {**outcome.detail, "error": exc.code}
        await record(
            manager, actor=actor, action=action, target=target, result=result_of(exc), detail=error
        )
        raise
    except Exception as exc:
        error = {**outcome.detail, "error": type(exc).__name__}
        await record(
            manager, actor=actor, action=action, target=target, result="failed", detail=error
        )
        raise
    await record(
        manager,
        actor=actor,
        action=action,
        target=target,
        result=outcome.result,
        detail=outcome.detail,
    )


class _Report(Protocol):
    @property
    def ok(self) -> bool: ...


R = TypeVar("R", bound=_Report)


async def audited_run(
    manager: Manager,
    work: Awaitable[R],
    *,
    actor: str,
    action: str,
    target: str,
    detail: Mapping[str, object] | None = None,
    dry_run: bool = False,
) -> R:
    """Await ``work`` (a change that reports ``ok``) and write its one entry.

    A dry run (a plan) changes nothing and is awaited without an entry.
    """
    if dry_run:
        return await work
    async with audited(
        manager, actor=actor, action=action, target=target, detail=detail
    ) as outcome:
        report = await work
        if not report.ok:
            outcome.result = "failed"
    return report


def _view(row: AuditEntry) -> AuditView:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    return AuditView(
        id=row.id,
        at=at,
        actor=row.actor,
        action=row.action,
        target=row.target,
        result=row.result,
        detail=dict(row.detail or {}),
    )


async def entries(
    manager: Manager,
    *,
    limit: int = 100,
    before_id: int | None = None,
    actor: str | None = None,
) -> list[AuditView]:
    """Entries newest first. Page on with ``before_id`` = the last id of the previous page.

    ``limit`` above :data:`MAX_ENTRIES` is lowered to it.
    """
    if limit < 1:
        raise InvalidInput(f"invalid limit {limit}: at least 1")
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(min(limit, MAX_ENTRIES))
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    async with manager.db.session() as session:
        return [_view(row) for row in await session.scalars(query)]
