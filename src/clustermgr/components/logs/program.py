"""The follower as the servers get it: one file, the same path on every server.

The follower (:mod:`clustermgr.components.logs.follower`) is a program of the
standard library only; it is shipped as it is, and started as ``python3 PATH``.
"""

from __future__ import annotations

from pathlib import Path

#: Where the follower lives on every server (outside any Gluu chroot: it runs on the
#: server itself and reads the chroot's logs through their paths from outside).
FOLLOWER_PATH = "/usr/local/lib/clustermgr/logfollow.py"
#: Its mode: root writes it, anyone may read it (it holds no secret).
FOLLOWER_MODE = 0o644


def follower_source() -> bytes:
    """The follower program's bytes, as this clustermgr ships it."""
    return (Path(__file__).parent / "follower.py").read_bytes()
