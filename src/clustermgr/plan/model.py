"""Steps, outcomes and reports: plain values that planners build and tests compare."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from clustermgr.plan.timing import StepTiming, section
from clustermgr.redact import Secret
from clustermgr.remote.command import Command


class Outcome(StrEnum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    #: Not attempted: an earlier step on the same host failed, or a rolling step
    #: failed on an earlier host.
    SKIPPED = "skipped"
    #: Dry run: the step would change something.
    WOULD_CHANGE = "would change"


@dataclass(frozen=True)
class FileChange:
    """A whole file as it should be. Written atomically, the previous version kept."""

    path: str
    content: bytes
    mode: int = 0o644
    #: ``user:group`` to own the file, or None to leave ownership to the writer (root).
    owner: str | None = None
    #: Builds the command that validates a candidate file (its path is the argument);
    #: exit status 0 means valid. ``nginx -t``, ``slaptest``, ``nutcracker -t``.
    validate: Callable[[str], Command] | None = field(default=None, compare=False)
    #: The validator only reads the live path (it follows includes): the file is
    #: installed first, validated there, and restored if invalid.
    validate_in_place: bool = False
    #: The content holds secrets: diffs mask them, or show only that the file changes.
    sensitive: bool = False
    #: The secrets (held by the manager) the content holds: a sensitive file's diff
    #: shows them masked line by line.  Without them, it shows only that it changes.
    secrets: tuple[Secret, ...] = ()
    #: The content is a stand-in, made only when applied (a certificate the cluster CA
    #: signs once the node made its CSR): diffs say this instead.
    placeholder: str = ""


#: One attribute value of an LDAP entry, as an LDIF line shows it: (name, value).
AttributeLine = tuple[str, str]


@dataclass(frozen=True)
class EntryChange:
    """An LDAP entry a step changes: the attributes it touches, now and as they will be.

    ``before`` is None when the entry does not exist yet, ``after`` when the step
    deletes it.  Values that hold secrets are masked when the change is built.
    """

    dn: str
    before: tuple[AttributeLine, ...] | None
    after: tuple[AttributeLine, ...] | None
    #: Attributes whose current values the planner could not read.
    unread: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        """The pseudo-path diffs show the entry under."""
        return f"ldap:///{self.dn}"


@dataclass(frozen=True)
class Step:
    host: str
    #: What changes, in a few words: "write /etc/hosts", "install packages".
    title: str
    #: Why the planner wants it.
    reason: str
    files: tuple[FileChange, ...] = ()
    #: Run in order once the files are in place; the first non-zero exit fails the step.
    commands: tuple[Command, ...] = ()
    #: Run again just before applying (facts go stale): exit 0 means already done.
    check: Command | None = None
    unchanged_reason: str = "already in the desired state"
    #: Run after applying; non-zero restores the files and fails the step.
    verify: Command | None = None
    #: Run after files were restored, to bring the service back on the old files.
    rollback: tuple[Command, ...] = ()
    #: Steps sharing a rolling group run on one host at a time, in host order, and
    #: stop rolling at the first failure, so the cluster keeps serving.
    rolling_group: str | None = None
    warnings: tuple[str, ...] = ()
    #: The directory entries the step's commands change, shown as diffs in plans.
    entries: tuple[EntryChange, ...] = ()

    @property
    def id(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")
        return f"{self.host}:{slug}"


@dataclass(frozen=True)
class Plan:
    title: str
    steps: tuple[Step, ...]

    @property
    def hosts(self) -> list[str]:
        return list(dict.fromkeys(step.host for step in self.steps))

    def for_host(self, host: str) -> list[Step]:
        return [step for step in self.steps if step.host == host]


@dataclass(frozen=True)
class FileDiff:
    path: str
    diff: str
    created: bool


@dataclass(frozen=True)
class StepResult:
    step_id: str
    host: str
    title: str
    outcome: Outcome
    reason: str
    exit_status: int | None = None
    stderr_tail: str = ""
    diffs: tuple[FileDiff, ...] = ()
    warnings: tuple[str, ...] = ()
    #: The commands the step runs (or would run), secrets masked.
    commands: tuple[str, ...] = ()
    duration: float = 0.0
    #: Its waits and SSH traffic: shown in the report's timing section, never compared.
    timing: StepTiming = field(default=StepTiming(), compare=False)

    def as_dict(self) -> dict[str, object]:
        return {
            "step": self.step_id,
            "host": self.host,
            "title": self.title,
            "outcome": self.outcome.value,
            "reason": self.reason,
            "exit_status": self.exit_status,
            "stderr_tail": self.stderr_tail,
            "diffs": [{"path": d.path, "diff": d.diff, "created": d.created} for d in self.diffs],
            "warnings": list(self.warnings),
            "commands": list(self.commands),
            "duration": round(self.duration, 3),
        }


@dataclass(frozen=True)
class ApplyReport:
    plan: str
    dry_run: bool
    results: dict[str, list[StepResult]]

    @classmethod
    def merged(
        cls, title: str, reports: Iterable[ApplyReport], *, dry_run: bool = False
    ) -> ApplyReport:
        """One report of several applies (a change in parts): each host's results in
        the order the parts ran."""
        results: dict[str, list[StepResult]] = {}
        for report in reports:
            for host, rows in report.results.items():
                results.setdefault(host, []).extend(rows)
        return cls(title, dry_run, results)

    def all(self) -> Iterable[StepResult]:
        for results in self.results.values():
            yield from results

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.all() if r.outcome is outcome)

    @property
    def ok(self) -> bool:
        return not any(r.outcome in (Outcome.FAILED, Outcome.SKIPPED) for r in self.all())

    @property
    def failed_hosts(self) -> list[str]:
        return [h for h, rs in self.results.items() if any(r.outcome is Outcome.FAILED for r in rs)]

    @property
    def digest(self) -> str:
        """What this plan would change, as a hash: equal for two plans that would make the
        same changes, whatever they found unchanged or how long they took.  An apply
        started from a reviewed plan compares it with a fresh plan's."""
        changes = [
            {
                "step": r.step_id,
                "outcome": r.outcome.value,
                "diffs": [[d.path, d.diff, d.created] for d in r.diffs],
                "commands": list(r.commands),
                "warnings": list(r.warnings),
            }
            for r in self.all()
            if r.outcome is not Outcome.UNCHANGED
        ]
        return hashlib.sha256(json.dumps(changes, sort_keys=True).encode()).hexdigest()

    def timing(self) -> dict[str, Any]:
        """Where the time went (see :mod:`clustermgr.plan.timing`); not in the digest."""
        return section(("", r) for r in self.all())

    def as_dict(self) -> dict[str, object]:
        return {
            "plan": self.plan,
            "dry_run": self.dry_run,
            "digest": self.digest,
            "ok": self.ok,
            "counts": {o.value: self.count(o) for o in Outcome},
            "hosts": {h: [r.as_dict() for r in rs] for h, rs in self.results.items()},
            "timing": self.timing(),
        }
