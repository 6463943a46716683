"""Opening the manager for one CLI command, and who runs it."""

from __future__ import annotations

import getpass
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from clustermgr.core.manager import Manager


def cli_actor() -> str:
    """Who the audit trail names for a command: ``cli:`` and the operating system user."""
    return f"cli:{getpass.getuser()}"


@asynccontextmanager
async def manager() -> AsyncIterator[Manager]:
    opened = await Manager.open()
    try:
        yield opened
    finally:
        await opened.close()
