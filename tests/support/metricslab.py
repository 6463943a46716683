"""Labs of the metrics tests: bare servers whose node exporters the test starts itself.

The exporters stage needs the cache (the Redis exporter reads its password); these
tests need only the node exporter, and the cluster marked as the stage's apply marks
it, so that the watcher scrapes it.  The node exporter is started as the stage starts
it: by its package's init script, with the ``/etc/default`` file the stage writes.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from clustermgr.components import registry
from clustermgr.components.metrics.exporters import NODE
from clustermgr.components.metrics.settingsstore import mark_applied
from clustermgr.components.metrics.watch import MetricsWatch
from clustermgr.core.manager import Manager
from clustermgr.monitor.watcher import CycleReport, Watcher
from labfixture import SLOT, Lab, running_lab

START = (
    f"printf %s {shlex.quote(NODE.defaults())} > {NODE.defaults_file}"
    f" && service {NODE.package} start >/dev/null"
)
STOP = f"service {NODE.package} stop >/dev/null"


@asynccontextmanager
async def exporter_lab(base: Path, hosts: Sequence[str] | None = None) -> AsyncIterator[Lab]:
    """A bare lab of its own with a node exporter on ``hosts`` (None: every host)."""
    prefix, subnet = SLOT.spare()
    async with running_lab(base, gluu=False, prefix=prefix, subnet=subnet) as lab:
        for name in hosts if hosts is not None else [h.name for h in lab.config.hosts()]:
            await lab.sh(name, START)
        manager = await Manager.open(lab.settings)
        try:
            await mark_applied(manager, lab.config.cluster)
        finally:
            await manager.close()
        yield lab


@asynccontextmanager
async def metrics_watcher(lab: Lab, every: float) -> AsyncIterator[Watcher]:
    """A watcher of ``lab``'s cluster with the metrics part alone, scraping every
    ``every`` seconds (its checks time out after one more second)."""
    settings = lab.settings.model_copy(
        update={
            "metrics_scrape_seconds": every,
            "watch_interval": every,
            "watch_timeout": every + 1,
        }
    )
    manager = await Manager.open(settings)
    watching = Watcher(
        manager, [MetricsWatch(manager)], kinds=registry.job_kinds(), cluster=lab.config.cluster
    )
    try:
        yield watching
    finally:
        await watching.close()
        await manager.close()


async def scrape(watcher: Watcher, every: float) -> CycleReport:
    """One scrape, ``every`` seconds after the one before (so that it is due)."""
    await asyncio.sleep(every)
    [report] = [r for r in await watcher.cycle() if r.component == "metrics"]
    return report
