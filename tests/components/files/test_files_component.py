"""The cluster files in the registry: a deploy stage after the install, its job kinds,
and the watcher leaving it alone while the install writes the files."""

from __future__ import annotations

from clustermgr.components.contract import deploy_stages
from clustermgr.components.registry import COMPONENTS, component, job_kinds


def test_a_stage_after_the_install_with_plan_apply_and_status() -> None:
    files = component("files")
    assert files.needs == ("install",) and files.cli is not None and files.watch is not None
    names = [s.name for s in deploy_stages(COMPONENTS)]
    assert names.index("files") == names.index("install") + 1
    kinds = job_kinds()
    assert {"files-plan", "files-apply", "files-status"} <= set(kinds.names)
    assert kinds.get("files-apply").mutating and not kinds.get("files-status").mutating


def test_the_watcher_leaves_the_files_alone_while_the_install_writes_them() -> None:
    kinds = job_kinds()
    assert kinds.touches("install-apply", "files")
    assert kinds.touches("files-apply", "files")
    assert not kinds.touches("lb-apply", "files")
