"""Every module of the jobs and the components imports first, on its own: no import cycle
hides behind an import order."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import clustermgr

PACKAGES = ("clustermgr.jobs.", "clustermgr.components.")

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(clustermgr.__path__, "clustermgr.")
    if m.name.startswith(PACKAGES)
)

#: Imports each module named on the command line as the first clustermgr module:
#: clustermgr's modules are forgotten before each (third-party ones stay, for speed).
FRESH_IMPORTS = """
import importlib, sys
failed = {}
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m.split(".")[0] == "clustermgr"]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed[name] = f"{type(exc).__name__}: {exc}"
print(failed)
sys.exit(1 if failed else 0)
"""


def test_the_package_lists_its_modules() -> None:
    assert {"clustermgr.jobs.kinds", "clustermgr.components.lb.jobs"} <= set(MODULES)


def test_each_module_imports_first() -> None:
    ran = subprocess.run(
        [sys.executable, "-c", FRESH_IMPORTS, *MODULES],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr[-2000:]
