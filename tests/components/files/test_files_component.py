"""The cluster files in the registry: a deploy stage after the install, and its job kinds."""

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
