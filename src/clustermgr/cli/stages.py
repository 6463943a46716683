"""What generic commands need from the registry: the deploy's stages (``cluster
deploy``) and every component's part in a node's life (``node add``, ``node remove``).

The entry point hands a :class:`DeployStages` over as the command context's object;
they load (every component's job kinds) only when a command runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clustermgr.jobs.deploy import Stage
    from clustermgr.jobs.lifecycle import Lifecycle


@dataclass(frozen=True)
class DeployStages:
    """Loads the deploy's stages, in order."""

    load: Callable[[], tuple[Stage, ...]]
    #: Loads the components' parts in adding and taking out a node.
    nodes: Callable[[], Lifecycle] | None = None
