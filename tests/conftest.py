"""Fixtures shared by every test folder: the lab here, the rest from tests/support."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from argon2 import PasswordHasher

from clustermgr.auth import passwords
from labfixture import Lab, running_lab

pytest_plugins = [
    "dbfixtures",
    "sshfixtures",
    "webfixtures",
    "gluufixtures",
    "browserfixtures",
    "metricsfixtures",
]

# Production hashes cost about 0.1 s each on purpose; the tests hash hundreds of
# passwords and only need the same code path, so they use argon2's lowest cost.
passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture(scope="session")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    """The lab (2 identity nodes, 1 proxy), up once for the whole session."""
    async with running_lab(tmp_path_factory.mktemp("lab")) as running:
        yield running
