"""The component contract: what ``Component.job_kinds`` adds to the kinds it declares."""

from __future__ import annotations

from typing import Any

import typer
from fastapi import APIRouter

from clustermgr.components import registry
from clustermgr.components.contract import Component, Parts
from clustermgr.jobs.kinds import JobContext, JobKind, KindCatalog, NoParams, Report


async def _never(ctx: JobContext[NoParams]) -> Report:
    raise AssertionError("not run")


def _kind(name: str, mutating: bool, **more: Any) -> JobKind[NoParams]:
    return JobKind(name, name, mutating, _never, NoParams, **more)


def test_a_change_that_names_nothing_touches_its_own_component() -> None:
    parts = Parts(
        plan=_kind("thing-plan", False),
        apply=_kind("thing-apply", True),
        kinds=(
            _kind("thing-status", False),
            _kind("thing-fix", True),
            _kind("thing-deploy", True, touches=None),
            _kind("thing-other", True, touches=frozenset({"other"})),
        ),
    )
    comp = Component(name="thing", title="Thing", parts=lambda: parts)
    touches = {k.name: k.touches for k in comp.job_kinds()}
    assert touches == {
        "thing-plan": frozenset(),  # reads only: touches nothing
        "thing-apply": frozenset({"thing"}),
        "thing-status": frozenset(),
        "thing-fix": frozenset({"thing"}),
        "thing-deploy": None,  # every component: kept
        "thing-other": frozenset({"other"}),  # said otherwise: kept
    }


def test_the_catalog_says_which_components_a_running_job_changes() -> None:
    catalog = KindCatalog(
        [
            _kind("read", False),
            _kind("fix", True, touches=frozenset({"a", "b"})),
            _kind("everything", True, touches=None),
            _kind("unsaid", True),
        ]
    )
    assert catalog.touches("fix", "a") and catalog.touches("fix", "b")
    assert not catalog.touches("fix", "c")
    assert not catalog.touches("read", "a")
    assert catalog.touches("everything", "c")
    # A change that names no component, or a kind the catalog does not know (a newer
    # manager's), may change anything.
    assert catalog.touches("unsaid", "a")
    assert catalog.touches("from-elsewhere", "a")


def test_every_registered_change_touches_its_own_component() -> None:
    catalog = registry.job_kinds()
    for comp in registry.COMPONENTS:
        others = [c.name for c in registry.COMPONENTS if c.name != comp.name]
        for kind in comp.job_kinds():
            assert catalog.touches(kind.name, comp.name) is kind.mutating, kind.name
            if kind.mutating and kind.touches is not None:
                assert not any(catalog.touches(kind.name, o) for o in others), kind.name
    assert catalog.touches("cache-apply", "cache")
    assert not catalog.touches("cache-apply", "lb")
    assert not catalog.touches("apply", "cache")  # the base preparation: packages, hosts


def test_a_component_without_parts_has_no_kinds_status_or_watcher() -> None:
    comp = Component(name="bare", title="Bare")
    assert comp.job_kinds() == ()
    assert comp.plan is None and comp.apply is None and comp.status is None
    assert comp.watch is None and comp.set_up_in is None


def test_every_declared_front_end_loads_its_group_and_routers() -> None:
    loaded = 0
    for component in registry.COMPONENTS:
        if component.cli is not None:
            assert isinstance(component.cli(), typer.Typer), component.name
            loaded += 1
        for hook in (component.api, component.pages):
            if hook is not None:
                assert isinstance(hook(), APIRouter), component.name
                loaded += 1
    assert loaded >= 2 * len(registry.COMPONENTS)
