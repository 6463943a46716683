"""What the pages show, decided by pure functions: tables of inputs and answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from clustermgr.components.registry import job_kinds
from clustermgr.jobs.models import JobState
from clustermgr.jobs.views import EventView, JobView
from clustermgr.web.pages import present

KINDS = job_kinds()


def job(
    kind: str, state: JobState = JobState.SUCCEEDED, result: Any = None, id: int = 7
) -> JobView:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    return JobView(
        id, kind, "lab", state, kind == "apply", "admin", {}, "embedded",
        now, now, now if not state.active else None, False, result, None,
    )  # fmt: skip


def check(host: str, name: str, status: str, detail: str = "d") -> dict[str, str]:
    return {"host": host, "check": name, "status": status, "detail": detail}


@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        ([check("a", "ssh login", "pass")], {"a": ("pass", "", 0)}),
        (
            [check("a", "disk", "warn", "5 GiB"), check("a", "memory", "pass")],
            {"a": ("warn", "disk: 5 GiB", 1)},
        ),
        (
            [check("a", "disk", "warn"), check("a", "port 443", "fail", "held by x")],
            {"a": ("fail", "port 443: held by x", 2)},
        ),
        (
            [check("a", "ssh login", "pass"), check("b", "ssh login", "fail", "timeout")],
            {"a": ("pass", "", 0), "b": ("fail", "ssh login: timeout", 1)},
        ),
    ],
)
def test_preflight_verdict_is_the_worst_check(
    checks: list[dict[str, str]], expected: dict[str, tuple[str, str, int]]
) -> None:
    verdicts = present.preflight_verdicts(job("preflight", result={"ok": True, "checks": checks}))
    assert {h: (v.status, v.detail, v.problems) for h, v in verdicts.items()} == expected
    assert all(v.job_id == 7 for v in verdicts.values())


def test_no_preflight_no_verdicts() -> None:
    assert present.preflight_verdicts(None) == {}
    assert present.preflight_verdicts(job("preflight", JobState.FAILED, result=None)) == {}


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("--- /etc/hosts", "head"),
        ("+++ /etc/hosts", "head"),
        ("@@ -1,3 +1,4 @@", "hunk"),
        ("+10.0.0.1 a", "add"),
        ("-10.0.0.2 b", "del"),
        (" 127.0.0.1 localhost", "same"),
    ],
)
def test_diff_line_kinds(line: str, kind: str) -> None:
    assert present.diff_lines(line) == [present.DiffLine(kind, line)]


@pytest.mark.parametrize(
    ("algorithm", "command"),
    [
        ("ssh-ed25519", "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub"),
        ("ecdsa-sha2-nistp256", "ssh-keygen -lf /etc/ssh/ssh_host_ecdsa_key.pub"),
        ("rsa-sha2-512", "ssh-keygen -lf /etc/ssh/ssh_host_rsa_key.pub"),
        ("ssh-rsa", "ssh-keygen -lf /etc/ssh/ssh_host_rsa_key.pub"),
        ("something-new", "ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub"),
    ],
)
def test_compare_command_names_the_key_file(algorithm: str, command: str) -> None:
    assert present.compare_command(algorithm) == command


def report(ok: bool, would_change: int) -> dict[str, Any]:
    rows = [{"title": "write /etc/hosts", "outcome": "would change", "reason": "r"}] * would_change
    rows += [{"title": "install base packages", "outcome": "unchanged", "reason": "r"}]
    counts = {"would change": would_change, "unchanged": 1, "failed": 0 if ok else 1}
    return {
        "plan": "p", "dry_run": True, "digest": "d" * 64, "ok": ok, "counts": counts,
        "hosts": {"a": rows},
    }  # fmt: skip


def refused(would_change: int) -> dict[str, Any]:
    """An apply's result when a fresh plan differed from the reviewed one."""
    return {**report(True, would_change), "ok": False, "plan_changed": True}


@pytest.mark.parametrize(
    ("kind", "state", "result", "allowed"),
    [
        ("plan", JobState.SUCCEEDED, report(True, 2), True),
        ("plan", JobState.SUCCEEDED, report(True, 0), False),
        ("plan", JobState.SUCCEEDED, report(False, 2), False),
        ("plan", JobState.CANCELLED, report(True, 2), False),
        ("plan", JobState.RUNNING, None, False),
        ("apply", JobState.SUCCEEDED, report(True, 2), False),
        ("ldap-plan", JobState.SUCCEEDED, report(True, 2), True),
        ("ldap-apply", JobState.SUCCEEDED, report(True, 2), False),
        ("preflight", JobState.SUCCEEDED, {"ok": True, "checks": []}, False),
        ("plan", JobState.SUCCEEDED, {**report(True, 2), "digest": ""}, False),
        ("apply", JobState.FAILED, refused(2), True),
        ("ldap-apply", JobState.FAILED, refused(3), True),
        ("ldap-apply", JobState.FAILED, refused(0), False),
        ("ldap-apply", JobState.FAILED, {**report(False, 2), "ok": False}, False),
    ],
)
def test_only_a_successful_plan_with_changes_may_be_applied(
    kind: str, state: JobState, result: Any, allowed: bool
) -> None:
    view = job(kind, state, result)
    assert present.can_apply(view, present.report_view(view.result), KINDS) is allowed
    if allowed:
        expected = {"plan": "apply", "ldap-plan": "ldap-apply"}.get(kind, kind)
        assert present.applied_by(view, KINDS) == expected


def test_report_view_counts_and_changing_hosts() -> None:
    view = present.report_view(report(True, 2))
    assert view is not None
    assert view.would_change == 2 and view.changing_hosts == ["a"]
    assert [r.outcome for r in view.hosts["a"]] == ["would change", "would change", "unchanged"]
    assert present.report_view({"ok": True, "checks": []}) is None


def event(seq: int, kind: str, done: int | None = None, planned: int | None = None) -> EventView:
    at = datetime(2025, 1, 1, tzinfo=UTC)
    return EventView(seq, kind, None, None, None, kind, at, done, planned)


def test_progress_counts_the_steps_run_of_every_plan_of_the_job() -> None:
    events = [
        event(1, "plan_started"),  # the job's own start line counts nothing
        event(2, "plan_started", 0, 3),
        event(3, "step_started"),
        event(4, "step_finished", 1, 3),
        event(5, "step_finished", 2, 3),
        event(6, "plan_finished"),
        event(7, "plan_started", 0, 2),
        event(8, "step_finished", 1, 2),
        event(9, "step_finished"),  # a repair's own step line, outside any plan
    ]
    assert present.progress(events) == present.Progress(3, 5)
    assert present.progress(events[:2]) == present.Progress(0, 3)


def test_events_stored_before_progress_was_counted_show_none() -> None:
    assert present.progress([event(1, "plan_started"), event(2, "step_finished")]) is None
    assert present.progress([]) is None
