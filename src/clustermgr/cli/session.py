"""Opening the manager for one CLI command."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from clustermgr.core.manager import Manager


@asynccontextmanager
async def manager() -> AsyncIterator[Manager]:
    opened = await Manager.open()
    try:
        yield opened
    finally:
        await opened.close()
