"""The audit trail of API requests that are not a service's own change (a service that
changes servers or settings audits itself, under the actor it is given)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from clustermgr.audit import service as audit
from clustermgr.auth.views import UserView
from clustermgr.core.manager import Manager


@asynccontextmanager
async def audited(
    manager: Manager,
    user: UserView,
    action: str,
    target: str,
    detail: Mapping[str, object] | None = None,
) -> AsyncIterator[dict[str, object]]:
    """Record ``action`` once the block ends: ``ok``, or ``refused``/``failed`` with the code.

    The block may add to the yielded detail (a new job's id, for instance).
    """
    async with audit.audited(
        manager,
        actor=user.username,
        action=action,
        target=target,
        detail={**(detail or {}), "via": "api"},
    ) as outcome:
        yield outcome.detail
