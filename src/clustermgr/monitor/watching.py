"""What the watcher loop asks of a component it watches."""

from __future__ import annotations

from typing import Protocol


class WatchedComponent(Protocol):
    """A component's part of the watcher (see :mod:`clustermgr.monitor.watcher`)."""

    name: str
