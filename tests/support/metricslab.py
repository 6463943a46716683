"""The lab of the metrics tests: bare servers whose node exporters the tests start.

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
from clustermgr.lab import service
from clustermgr.monitor.watcher import CycleReport, Watcher
from clustermgr.settings import Settings
from labfixture import SLOT, Lab, running_lab

START = (
    f"printf %s {shlex.quote(NODE.defaults())} > {NODE.defaults_file}"
    f" && service {NODE.package} start >/dev/null"
)
STOP = f"service {NODE.package} stop >/dev/null"


@asynccontextmanager
async def bare_lab(base: Path) -> AsyncIterator[Lab]:
    """A bare lab of its own with a node exporter on every host: the one the metrics lab
    tests share (each through :func:`exporter_lab`)."""
    prefix, subnet = SLOT.spare()
    async with running_lab(base, gluu=False, prefix=prefix, subnet=subnet) as lab:
        for host in lab.config.hosts():
            await lab.sh(host.name, START)
        yield lab


@asynccontextmanager
async def exporter_lab(
    shared: Lab, base: Path, hosts: Sequence[str] | None = None
) -> AsyncIterator[Lab]:
    """The hosts of ``shared`` (a :func:`bare_lab`) under a manager of the caller's own
    (a data folder under ``base``: its inventory, rules, alerts and series start empty),
    the cluster marked as the exporters stage's apply marks it.

    A node exporter runs on ``hosts`` only (None: every host); the others' start again
    when the block ends, so the next user finds every exporter running.
    """
    # A new Settings, not a copy: a copy would keep the database path derived (and
    # cached) from the shared data folder.
    settings = Settings.model_validate(
        {**shared.settings.model_dump(), "data_dir": base / "manager"}
    )
    await service.register(shared.config, settings)
    lab = Lab(shared.config, settings)
    manager = await Manager.open(settings)
    try:
        await mark_applied(manager, lab.config.cluster)
    finally:
        await manager.close()
    names = [h.name for h in lab.config.hosts()]
    away = [n for n in names if hosts is not None and n not in hosts]
    for name in away:
        await lab.sh(name, STOP)
    try:
        yield lab
    finally:
        for name in away:
            await lab.sh(name, START)


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
