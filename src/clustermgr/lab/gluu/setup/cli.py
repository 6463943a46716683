"""``setup PROPERTIES``: check the properties (exit 2 when bad), then set the node up.

Exit 0: the node is set up (stdout lists what changed, or says nothing did); 1: a
step failed (stdout lists what changed before it, the reason is on stderr, the
details in the setup log); 2: bad usage or bad properties (the key at fault named).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence

from clustermgr.lab.gluu import node

from .program import Build, Setup, SetupFailed
from .properties import PropertiesError, parse_properties, validate

USAGE = f"usage: {node.SETUP_PROGRAM} {node.SETUP_PROPERTIES}"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def fail(message: str, code: int) -> int:
    sys.stderr.write(f"gluu-server setup: {message}\n")
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0].startswith("-"):
        return fail(USAGE, 2)
    path = args[0]
    try:
        with open(path, "rb") as source:
            text = source.read()
    except OSError as exc:
        return fail(f"cannot read {path}: {exc.strerror}", 2)
    try:
        settings = validate(parse_properties(text.decode("utf-8")))
    except UnicodeDecodeError:
        return fail(f"{path} is not UTF-8 text", 2)
    except PropertiesError as exc:
        return fail(f"{path}: {exc}", 2)
    if os.geteuid() != 0:
        return fail("must run as root", 1)
    os.environ["PATH"] = PATH
    build = Build.load()
    try:
        fd = os.open(node.SETUP_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as exc:
        return fail(f"failed: cannot write {node.SETUP_LOG}: {exc.strerror}", 1)
    with os.fdopen(fd, "a", encoding="utf-8") as log:
        setup = Setup(settings, text, build, log)
        try:
            setup.run()
        except (SetupFailed, OSError) as exc:  # OSError: a file not written (a full disk...)
            with contextlib.suppress(OSError):
                setup.log(f"failed: {exc}")
            _changed(setup.changes, "")
            return fail(f"failed: {exc} (details in {node.SETUP_LOG})", 1)
    summary = f"{len(setup.changes)} change(s)" if setup.changes else "nothing to change"
    _changed(
        setup.changes, f"gluu-server {build.version} is set up for {settings.hostname}: {summary}"
    )
    return 0


def _changed(changes: list[str], last: str) -> None:
    """What the run changed, one line each (also when it failed later), then ``last``."""
    lines = [f"changed: {c}" for c in changes] + ([last] if last else [])
    if lines:
        sys.stdout.write("\n".join(lines) + "\n")
