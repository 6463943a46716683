"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from labfixture import Lab, running_lab


@pytest.fixture(scope="session")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    """The lab (2 identity nodes, 1 proxy), up once for the whole session."""
    async with running_lab(tmp_path_factory.mktemp("lab")) as running:
        yield running
