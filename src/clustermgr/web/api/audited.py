"""The audit trail of API changes: who (the token's user) did what, and how it ended."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from clustermgr.audit import service as audit
from clustermgr.auth.views import UserView
from clustermgr.core.manager import Manager
from clustermgr.errors import ClustermgrError

#: Results of refused requests by error code (anything else that failed is ``failed``).
REFUSED = frozenset({"job_conflict", "host_key_unknown", "host_key_changed", "already_exists"})


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
    extra: dict[str, object] = dict(detail or {})
    try:
        yield extra
    except ClustermgrError as exc:
        result = "refused" if exc.code in REFUSED else "failed"
        await audit.record(
            manager,
            actor=user.username,
            action=action,
            target=target,
            result=result,
            detail={**extra, "via": "api", "error": exc.code},
        )
        raise
    await audit.record(
        manager,
        actor=user.username,
        action=action,
        target=target,
        detail={**extra, "via": "api"},
    )
