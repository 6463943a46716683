"""What the pages show, computed from job results: pure functions of plain data.

Templates only loop and print; every decision (which preflight verdict a host
gets, how many steps a plan would change, how a diff line is coloured) is made
here, where tests can compare values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from clustermgr.jobs.kinds import KindCatalog
from clustermgr.jobs.views import EventView, JobView
from clustermgr.plan.events import EventKind
from clustermgr.plan.model import Outcome

#: Worst first: the verdict of a host is the worst of its checks.
_SEVERITY = {"fail": 2, "warn": 1, "pass": 0}


@dataclass(frozen=True)
class HostVerdict:
    """The latest preflight result of one host, in a few words."""

    status: str
    job_id: int
    #: The first check that did not pass, as "check: detail".
    detail: str = ""
    problems: int = 0


def preflight_verdicts(job: JobView | None) -> dict[str, HostVerdict]:
    """Host -> its verdict from a finished preflight job (empty without one)."""
    if job is None or not job.result:
        return {}
    by_host: dict[str, list[Mapping[str, Any]]] = {}
    for check in job.result.get("checks", []):
        by_host.setdefault(str(check.get("host", "")), []).append(check)
    verdicts = {}
    for host, checks in by_host.items():
        worst = max(checks, key=lambda c: _SEVERITY.get(str(c.get("status")), 2))
        status = str(worst.get("status"))
        problems = [c for c in checks if c.get("status") != "pass"]
        detail = f"{worst.get('check')}: {worst.get('detail')}" if problems else ""
        verdicts[host] = HostVerdict(status, job.id, detail, len(problems))
    return verdicts


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "hunk", "head" or "same"
    text: str


def diff_lines(diff: str) -> list[DiffLine]:
    """A unified diff, line by line, with the kind each line is shown as."""
    lines = []
    for text in diff.splitlines():
        if text.startswith(("+++", "---")):
            kind = "head"
        elif text.startswith("@@"):
            kind = "hunk"
        elif text.startswith("+"):
            kind = "add"
        elif text.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        lines.append(DiffLine(kind, text))
    return lines


@dataclass(frozen=True)
class StepRow:
    host: str
    title: str
    outcome: str
    reason: str
    diffs: Sequence[tuple[str, list[DiffLine]]] = ()
    warnings: Sequence[str] = ()
    stderr_tail: str = ""
    exit_status: int | None = None
    commands: Sequence[str] = ()


@dataclass(frozen=True)
class ReportView:
    """An ApplyReport dict as the job page shows it."""

    hosts: dict[str, list[StepRow]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    ok: bool = False
    dry_run: bool = False
    #: What the plan would change, as a hash (an apply started from it carries it).
    digest: str = ""
    #: An apply that refused to run because a fresh plan differed from the reviewed one:
    #: its steps are that fresh plan.
    plan_changed: bool = False

    @property
    def steps_ok(self) -> bool:
        """No step failed or was skipped."""
        return not (self.counts.get(Outcome.FAILED.value) or self.counts.get(Outcome.SKIPPED.value))

    @property
    def would_change(self) -> int:
        return self.counts.get(Outcome.WOULD_CHANGE.value, 0)

    @property
    def changing_hosts(self) -> list[str]:
        wanted = Outcome.WOULD_CHANGE.value
        return [h for h, rows in self.hosts.items() if any(r.outcome == wanted for r in rows)]


def report_view(result: Mapping[str, Any] | None) -> ReportView | None:
    """The steps of an ApplyReport dict per host; None when ``result`` is not one."""
    if not result or not isinstance(result.get("hosts"), Mapping):
        return None
    hosts = {
        str(host): [
            StepRow(
                host=str(host),
                title=str(r.get("title", "")),
                outcome=str(r.get("outcome", "")),
                reason=str(r.get("reason", "")),
                diffs=[
                    (str(d.get("path")), diff_lines(str(d.get("diff", ""))))
                    for d in r.get("diffs") or []
                ],
                warnings=[str(w) for w in r.get("warnings") or []],
                stderr_tail=str(r.get("stderr_tail") or ""),
                exit_status=r.get("exit_status"),
                commands=[str(c) for c in r.get("commands") or []],
            )
            for r in rows
        ]
        for host, rows in result["hosts"].items()
    }
    counts = {str(k): int(v) for k, v in (result.get("counts") or {}).items()}
    return ReportView(
        hosts,
        counts,
        bool(result.get("ok")),
        bool(result.get("dry_run")),
        digest=str(result.get("digest") or ""),
        plan_changed=bool(result.get("plan_changed")),
    )


def applied_by(job: JobView, kinds: KindCatalog) -> str | None:
    """The job kind that applies the plan ``job``'s page shows: a plan's apply kind, or
    the apply itself when it refused a plan that changed since review; else None."""
    found = kinds.find(job.kind)
    if found is None:
        return None
    if found.applied_by is not None:
        return found.applied_by
    if (job.result or {}).get("plan_changed"):
        return found.name
    return None


def can_apply(job: JobView, report: ReportView | None, kinds: KindCatalog) -> bool:
    """A finished plan with no failed step and something to change may be applied."""
    if applied_by(job, kinds) is None or report is None or not report.digest:
        return False
    finished_well = job.state.value == "succeeded" or report.plan_changed
    return finished_well and job.finished and report.steps_ok and report.would_change > 0


@dataclass(frozen=True)
class Progress:
    """How far a job got: steps run of steps planned, over every plan it ran."""

    done: int
    planned: int


def progress(events: Iterable[EventView]) -> Progress | None:
    """The steps the job's plans ran, of those they planned; None when no event counts
    steps (a job without a plan, or one recorded before steps were counted).

    Mirrored by ``countProgress`` in static/app.js, which goes on counting live.
    """
    done = planned = 0
    counted = False
    for event in events:
        if event.planned is None:
            continue
        counted = True
        if event.kind == EventKind.PLAN_STARTED.value:
            planned += event.planned
        elif event.kind == EventKind.STEP_FINISHED.value:
            done += 1
    return Progress(done, planned) if counted else None


def key_file(algorithm: str) -> str:
    """The host key file sshd keeps for a key algorithm (to compare fingerprints)."""
    name = algorithm.lower()
    if "ed25519" in name:
        kind = "ed25519"
    elif "ecdsa" in name:
        kind = "ecdsa"
    elif "rsa" in name:
        kind = "rsa"
    elif "dss" in name:
        kind = "dsa"
    else:
        return "/etc/ssh/ssh_host_*_key.pub"
    return f"/etc/ssh/ssh_host_{kind}_key.pub"


def compare_command(algorithm: str) -> str:
    """The exact command to run on the server to see its own fingerprint."""
    return f"ssh-keygen -lf {key_file(algorithm)}"
