"""What ``clustermgr cluster deploy`` needs from the registry: the deploy's stages.

The entry point hands a :class:`DeployStages` over as the command context's object;
the stages load (every component's job kinds) only when a deploy runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clustermgr.jobs.deploy import Stage


@dataclass(frozen=True)
class DeployStages:
    """Loads the deploy's stages, in order."""

    load: Callable[[], tuple[Stage, ...]]
