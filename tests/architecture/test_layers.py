"""The layering contract: a module imports only from its own layer or the ones below.

Each module belongs to the layer of the longest prefix below that names it.  A
chain of imports that climbs must take one direct step up somewhere, so checking
every direct import (including those inside functions and ``TYPE_CHECKING``
blocks) checks every chain.  ARCHITECTURE.md explains the layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

#: Top first.  A module may import its own layer and every layer after it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "entry points",
        (
            "clustermgr.__main__",
            "clustermgr.cli.main",
            "clustermgr.cli.serve",
            "clustermgr.cli.watch",
            "clustermgr.web.app",
            "clustermgr.jobs.worker",
            "clustermgr.db.migrations.env",
        ),
    ),
    ("registry", ("clustermgr.components.registry",)),
    (
        "components",
        (
            "clustermgr.components",
            # The base preparation's declaration; its planners are a use case below.
            "clustermgr.components.base.component",
            "clustermgr.components.base.jobs",
        ),
    ),
    ("front ends", ("clustermgr.cli", "clustermgr.web")),
    ("component contract", ("clustermgr.components.contract",)),
    (
        "machinery",
        (
            "clustermgr.jobs",
            "clustermgr.monitor",
            "clustermgr.notify",
            "clustermgr.lab",
            "clustermgr.logstore",
        ),
    ),
    (
        "use cases",
        (
            "clustermgr.services",
            "clustermgr.auth",
            "clustermgr.audit",
            # Packages and /etc/hosts: what every server gets, every component builds on.
            "clustermgr.components.base",
        ),
    ),
    ("certificates", ("clustermgr.pki",)),
    ("manager", ("clustermgr.core",)),
    ("plans", ("clustermgr.plan",)),
    ("facts", ("clustermgr.facts",)),
    ("inventory", ("clustermgr.inventory",)),
    ("remote", ("clustermgr.remote",)),
    ("database", ("clustermgr.db",)),
    (
        "foundations",
        (
            "clustermgr.topology",
            "clustermgr.settings",
            "clustermgr.errors",
            "clustermgr.redact",
            "clustermgr.validation",
            "clustermgr",
        ),
    ),
)

#: Components are independent of one another: none imports another's package (they
#: may all build on ``components.base``, the preparation every server gets).
COMPONENT_PACKAGES = ("ldap", "cache", "lb", "metrics", "files")


def layer_of(module: str) -> int:
    best, found = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), index
    assert found >= 0, f"{module} is in no layer"
    return found


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every clustermgr import in ``path``, relative ones resolved."""
    tree = ast.parse(path.read_text(), str(path))
    package = (
        module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    )
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base]).strip(".")
            # ``from pkg import module`` names a module when pkg.module is one.
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((node.lineno, sub if _is_module(sub) else base))
    return [(line, m) for line, m in found if m == "clustermgr" or m.startswith("clustermgr.")]


def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (SRC / rel).with_suffix(".py").exists() or (SRC / rel / "__init__.py").exists()


SOURCES = sorted(p for p in (SRC / "clustermgr").rglob("*.py") if "lab/gluu" not in p.as_posix())


def test_every_module_has_a_layer() -> None:
    for path in SOURCES:
        layer_of(module_name(path))


def test_no_module_imports_a_layer_above_its_own() -> None:
    wrong = []
    for path in SOURCES:
        here = module_name(path)
        mine = layer_of(here)
        for line, target in sorted(set(imports(path))):
            theirs = layer_of(target)
            if theirs < mine:
                wrong.append(
                    f"{path.relative_to(SRC)}:{line}: {here} ({LAYERS[mine][0]}) imports "
                    f"{target} ({LAYERS[theirs][0]})"
                )
    assert not wrong, "imports up the layers:\n" + "\n".join(wrong)


def _component(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) > 2 and parts[1] == "components" and parts[2] in COMPONENT_PACKAGES:
        return parts[2]
    return None


def test_components_do_not_import_each_other() -> None:
    wrong = []
    for path in SOURCES:
        here = module_name(path)
        mine = _component(here)
        if mine is None:
            continue
        for line, target in imports(path):
            theirs = _component(target)
            if theirs is not None and theirs != mine:
                wrong.append(f"{path.relative_to(SRC)}:{line}: {here} imports {target}")
    assert not wrong, "components importing each other:\n" + "\n".join(wrong)


@pytest.mark.parametrize("name", ["clustermgr.components.registry"])
def test_only_entry_points_read_the_registry(name: str) -> None:
    readers = sorted(module_name(p) for p in SOURCES if any(t == name for _, t in imports(p)))
    allowed = set(LAYERS[0][1])
    assert set(readers) <= allowed, f"{set(readers) - allowed} read the registry"
