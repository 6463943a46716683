"""The components clustermgr manages, in the order a cluster is built.

Adding a component is one package under ``components/`` and one line here; the
CLI, the REST API, the GUI, the job runners and the watcher read this tuple.
Importing it imports the declarations only; each component's modules load when
first used (:mod:`clustermgr.components.contract`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clustermgr.components.base.component import COMPONENT as BASE
from clustermgr.components.cache.component import COMPONENT as CACHE
from clustermgr.components.contract import Component, deploy_stages, lifecycle
from clustermgr.components.files.component import COMPONENT as FILES
from clustermgr.components.install.component import COMPONENT as INSTALL
from clustermgr.components.keys.component import COMPONENT as KEYS
from clustermgr.components.lb.component import COMPONENT as LB
from clustermgr.components.ldap.component import COMPONENT as LDAP
from clustermgr.components.logs.component import COMPONENT as LOGS
from clustermgr.components.metrics.component import COMPONENT as METRICS
from clustermgr.errors import NotFound

if TYPE_CHECKING:
    from clustermgr.core.manager import Manager
    from clustermgr.jobs.kinds import KindCatalog
    from clustermgr.monitor.watching import WatchedComponent

COMPONENTS: tuple[Component, ...] = (
    INSTALL,
    FILES,
    KEYS,
    BASE,
    LDAP,
    CACHE,
    LB,
    METRICS,
    LOGS,
)


def component(name: str, components: tuple[Component, ...] = COMPONENTS) -> Component:
    for found in components:
        if found.name == name:
            return found
    raise NotFound(
        f"no component {name!r}", hint=f"one of: {', '.join(c.name for c in components)}"
    )


def job_kinds(components: tuple[Component, ...] = COMPONENTS) -> KindCatalog:
    """Every job kind of every component, in registry order, then the deploy's
    (``deploy-plan`` and ``deploy``, built from the components' stages) and a node's
    (``node-add`` and ``node-remove``, built from the components' parts in them)."""
    from clustermgr.jobs import deploy
    from clustermgr.jobs.kinds import KindCatalog

    own = [kind for c in components for kind in c.job_kinds()]
    nodes = lifecycle(components).kinds()
    return KindCatalog([*own, *deploy.kinds(deploy_stages(components)), *nodes])


def watched(
    manager: Manager, components: tuple[Component, ...] = COMPONENTS
) -> list[WatchedComponent]:
    """The watcher's parts: one per component that is watched, in registry order."""
    factories = (c.watch for c in components)
    return [factory(manager) for factory in factories if factory is not None]
