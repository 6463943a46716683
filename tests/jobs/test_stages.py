"""The cluster's stage states and next action, from job histories and open alerts: tables
of cases for the pure :func:`stage_states`, then :func:`load` on a real store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from clustermgr.core.manager import Manager
from clustermgr.jobs import stages as board_of
from clustermgr.jobs import store
from clustermgr.jobs.deploy import Stage
from clustermgr.jobs.kinds import JobKind, NoParams
from clustermgr.jobs.models import JobState
from clustermgr.jobs.stages import StageBoard, stage_states
from clustermgr.jobs.views import JobView
from clustermgr.monitor.views import AlertView
from clustermgr.services import clusters

NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def _never(ctx: Any) -> Any:
    raise AssertionError("not run here")


def _kind(name: str) -> JobKind[NoParams]:
    return JobKind(name, name, False, _never, NoParams)


STAGES = [
    Stage(name, name.upper(), _kind(f"{name}-plan"), _kind(f"{name}-apply"))
    for name in ("base", "ldap")
]


def job(id: int, kind: str, state: str = "succeeded", *, change: int = 0, **result: Any) -> JobView:
    return JobView(
        id, kind, "c", JobState(state), False, "u", {}, "embedded", NOW, NOW, NOW, False,
        {"ok": state == "succeeded", "counts": {"would change": change}, **result},
        None,
    )  # fmt: skip


def section(name: str, status: str, change: int = 0) -> dict[str, Any]:
    return {"name": name, "status": status, "report": {"counts": {"would change": change}}}


def alert(component: str, severity: str = "critical", key: str = "k") -> AlertView:
    return AlertView(1, "c", component, key, severity, f"{component} is down", NOW, NOW, None)


READY = [job(2, "preflight")]


def board(*history: JobView, servers: int = 2, alerts: tuple[AlertView, ...] = ()) -> StageBoard:
    return stage_states("c", STAGES, servers=servers, history=history, alerts=alerts)


def states(b: StageBoard) -> dict[str, str]:
    return {r.key: r.state.value for r in b.rows}


@pytest.mark.parametrize(
    ("history", "base", "ldap"),
    [
        ([], "not started", "not started"),
        ([job(3, "base-plan", change=2)], "planned", "not started"),
        ([job(3, "base-plan", change=0)], "applied", "not started"),
        ([job(3, "base-plan", "failed")], "failed", "not started"),
        ([job(4, "base-apply"), job(3, "base-plan", change=2)], "applied", "not started"),
        ([job(4, "base-apply", "failed"), job(3, "base-plan", change=2)], "failed", "not started"),
        ([job(5, "base-plan", change=1), job(4, "base-apply")], "drifted", "not started"),
        ([job(5, "base-plan", change=0), job(4, "base-apply")], "applied", "not started"),
        ([job(5, "base-plan", change=1), job(4, "base-apply", "failed")], "planned", "not started"),
        (
            [job(4, "base-apply", "failed", plan_changed=True, counts={"would change": 3})],
            "planned",
            "not started",
        ),
        (
            [job(6, "deploy-plan", stages=[section("base", "planned", 3), section("ldap", "waits")])],
            "planned",
            "planned",
        ),
        (
            [job(6, "deploy-plan", stages=[section("base", "planned", 0), section("ldap", "planned", 4)])],
            "applied",
            "planned",
        ),
        (
            [job(7, "deploy", stages=[section("base", "applied"), section("ldap", "applied")])],
            "applied",
            "applied",
        ),
        (
            [
                job(8, "deploy", "failed", stages=[section("base", "failed"), section("ldap", "not run")]),
                job(7, "deploy", stages=[section("base", "applied"), section("ldap", "applied")]),
            ],
            "failed",
            "applied",
        ),
        (
            [
                job(9, "ldap-plan", change=2),
                job(7, "deploy", stages=[section("base", "applied"), section("ldap", "applied")]),
            ],
            "applied",
            "drifted",
        ),
        (
            [
                job(8, "deploy", "failed", plan_changed=True,
                    stages=[section("base", "planned", 1), section("ldap", "planned", 0)]),
                job(7, "deploy", stages=[section("base", "applied"), section("ldap", "applied")]),
            ],
            "drifted",
            "applied",
        ),
        ([job(3, "ldap-status"), job(2, "lb-plan", change=3)], "not started", "not started"),
    ],
)  # fmt: skip
def test_a_change_state_comes_from_its_newest_record(
    history: list[JobView], base: str, ldap: str
) -> None:
    got = states(board(*history, *READY))
    assert (got["base"], got["ldap"]) == (base, ldap)


def test_open_critical_alerts_make_a_component_failing() -> None:
    history = [job(7, "deploy", stages=[section("base", "applied"), section("ldap", "applied")])]
    b = board(*history, *READY, alerts=(alert("ldap"), alert("ldap"), alert("base", "warning")))
    assert states(b) == {
        "servers": "done",
        "preflight": "done",
        "base": "applied",
        "ldap": "failing",
    }
    ldap = b.rows[3]
    assert ldap.detail == "ldap is down (and 1 more)" and ldap.next
    assert b.next is not None and b.next.label == "Plan LDAP"
    assert b.next.href == "/clusters/c/stages/ldap/plan" and b.next.method == "POST"


def test_only_alerts_that_say_its_set_up_is_broken_make_a_stage_failing() -> None:
    watching = Stage("watch", "Watch", _kind("watch-plan"), _kind("watch-apply"), None, ("down",))
    servers_only = Stage("load", "Load", _kind("load-plan"), _kind("load-apply"), None, ())
    history = [job(7, "deploy", stages=[section(s, "applied") for s in ("watch", "load")])]
    opened = (
        alert("watch", key="disk-full:idp1"),
        alert("load", key="cpu-busy:idp1"),
        alert("load", key="down:idp1"),
    )
    b = stage_states("c", [watching, servers_only], servers=2, history=history, alerts=opened)
    assert (states(b)["watch"], states(b)["load"]) == ("applied", "applied")
    b = stage_states(
        "c", [watching], servers=2, history=history, alerts=(alert("watch", key="down:idp2"),)
    )
    assert states(b)["watch"] == "failing"


@pytest.mark.parametrize(
    ("history", "servers", "label", "href", "highlighted"),
    [
        ([], 0, "Add servers", "/servers/add?cluster=c", "servers"),
        ([], 2, "Run preflight", "/clusters/c/check", "preflight"),
        ([job(2, "preflight", "failed")], 2, "Run preflight", "/clusters/c/check", "preflight"),
        (READY, 2, "Plan the whole deploy", "/clusters/c/deploy", None),
        ([job(3, "base-plan", change=1), *READY], 2, "Plan the whole deploy", "/clusters/c/deploy", None),
        (
            [job(6, "deploy-plan", stages=[section("base", "planned", 3), section("ldap", "waits")]), *READY],
            2, "Review plan #6", "/jobs/6", None,
        ),
        ([job(4, "base-apply"), *READY], 2, "Plan LDAP", "/clusters/c/stages/ldap/plan", "ldap"),
        (
            [job(5, "ldap-plan", change=2), job(4, "base-apply"), *READY],
            2, "Review plan #5", "/jobs/5", "ldap",
        ),
    ],
)  # fmt: skip
def test_the_next_action(
    history: list[JobView], servers: int, label: str, href: str, highlighted: str | None
) -> None:
    b = board(*history, servers=servers)
    assert b.next is not None and (b.next.label, b.next.href) == (label, href)
    assert [r.key for r in b.rows if r.next] == ([highlighted] if highlighted else [])


def test_nothing_next_once_every_stage_is_applied() -> None:
    history = [job(7, "deploy", stages=[section("base", "applied"), section("ldap", "applied")])]
    b = board(*history, *READY)
    assert b.next is None and not any(r.next for r in b.rows)
    assert b.as_dict()["next"] is None
    assert [s["state"] for s in b.as_dict()["stages"]] == ["done", "done", "applied", "applied"]


async def test_load_reads_the_newest_jobs_of_each_kind(manager: Manager) -> None:
    await clusters.create_cluster(manager, "c")
    for kind, state, result in [
        ("base-plan", JobState.SUCCEEDED, {"counts": {"would change": 1}}),
        ("base-apply", JobState.SUCCEEDED, {}),
        *[("ldap-status", JobState.SUCCEEDED, {})] * 3,
        ("ldap-plan", JobState.SUCCEEDED, {"counts": {"would change": 2}}),
        ("ldap-apply", JobState.RUNNING, None),
    ]:
        made = await store.create(
            manager, kind=kind, cluster="c", mutating=False, user="u", params={}, runner="x"
        )
        if not state.active:
            await store.finish(manager, made.id, state, result=result)
    many = await store.latest_per_kind(manager, "c", ["base-plan", "base-apply", "ldap-plan"], 1)
    assert [j.kind for j in many] == ["ldap-plan", "base-apply", "base-plan"]
    b = await board_of.load(manager, "c", STAGES)
    assert states(b) == {
        "servers": "not started",
        "preflight": "not started",
        "base": "applied",
        "ldap": "planned",
    }, "a running job does not count yet"
    assert b.rows[0].next and b.next is not None and b.next.label == "Add servers"


def test_a_failed_stage_says_why() -> None:
    why = "idp1: install Gluu Server: fill in the install settings"
    deploy = job(5, "deploy-plan", "failed", stages=[section("base", "failed") | {"note": why}])
    (row,) = [r for r in board(*READY, deploy).rows if r.key == "base"]
    assert row.state.value == "failed" and row.detail == why
    own = job(
        6,
        "ldap-apply",
        "failed",
        hosts={"idp2": [{"outcome": "failed", "title": "t", "reason": "r"}]},
    )
    (row,) = [r for r in board(*READY, own).rows if r.key == "ldap"]
    assert row.detail == "idp2: t: r"
