"""What every request handler can reach: the manager, the job runner, the templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi.templating import Jinja2Templates

from clustermgr.core.manager import Manager
from clustermgr.jobs.deploy import Stage
from clustermgr.jobs.lifecycle import Lifecycle
from clustermgr.jobs.runner import Runner

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


@dataclass
class WebContext:
    manager: Manager
    runner: Runner
    templates: Jinja2Templates
    #: Set the Secure flag on cookies (the app is served over TLS).
    secure_cookies: bool = False
    #: The deploy's stages, in order (the cluster page shows each one's state).
    stages: tuple[Stage, ...] = ()
    #: Every component's part in adding and taking out a node (what a removal loses).
    nodes: Lifecycle = field(default_factory=lambda: Lifecycle(()))
