"""A lab of a benchmark's own: up for the ``async with`` block, always down after it.

Each benchmark passes its own prefix and subnet, so it never touches a lab in
use; its data lives in a temporary folder removed afterwards.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from clustermgr.components.install.lab import install_lab
from clustermgr.core.manager import Manager
from clustermgr.lab import service
from clustermgr.lab.config import LabConfig
from clustermgr.redact import Secret
from clustermgr.settings import Settings

#: The Gluu admin's password on a benchmark's labs.
ADMIN_PASSWORD = Secret.held(secrets.token_urlsafe(18), label="bench-admin")


@dataclass(frozen=True)
class BenchLab:
    config: LabConfig
    settings: Settings
    manager: Manager


@asynccontextmanager
async def bench_lab(
    prefix: str,
    subnet: str,
    *,
    command_timeout: float = 120,
    gluu: bool = True,
    **config: object,
) -> AsyncIterator[BenchLab]:
    """``gluu``: Gluu Server installed by clustermgr's install (else bare servers);
    ``config``: further LabConfig fields (``identity_nodes``...)."""
    with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as tmp:
        base = Path(tmp)
        settings = Settings(
            data_dir=base / "manager", connect_timeout=5, command_timeout=command_timeout
        )
        lab = LabConfig(state_dir=base / "lab", prefix=prefix, subnet=subnet, **config)  # type: ignore[arg-type]
        await service.down(lab, settings)
        try:
            await service.up(lab, settings)
            manager = await Manager.open(settings)
            try:
                if gluu:
                    await install_lab(manager, lab.cluster, lab.apt_repo, ADMIN_PASSWORD)
                yield BenchLab(lab, settings, manager)
            finally:
                await manager.close()
        finally:
            await service.down(lab, settings)
