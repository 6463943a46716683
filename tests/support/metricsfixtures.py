"""The bare lab the metrics lab tests share: up once, when the first of them needs it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from labfixture import Lab
from metricslab import bare_lab


@pytest.fixture(scope="session")
async def metrics_lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    """Bare servers with a node exporter on each; a test module sees them through
    ``metricslab.exporter_lab`` (a manager of its own) and leaves them as it found them."""
    async with bare_lab(tmp_path_factory.mktemp("metrics-lab")) as lab:
        yield lab
