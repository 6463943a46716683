"""The executor: the only code that applies steps on connections.

Hosts run in parallel, each its own steps in order.  Before a step is applied
its files are read again and its check re-run (facts read while planning go
stale), so applying the same plan twice reports only ``unchanged`` the second
time.  Those reads are batched: one probe per host reads what all its steps need,
and stays good until some step changes something (see :class:`_Probes`).  Steps
of a rolling group take turns, host after host, only when they change something:
an unchanged step does not wait.  A failed step stops its own host; other hosts
go on, and their results are kept.  Files are validated before they take effect
and restored byte for byte when validation, a command or the verification fails.

Its events count progress: the plan's start carries the number of steps planned,
each step's end how many have run so far (skipped steps never run).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from clustermgr.errors import ClustermgrError, RemoteFileNotFound
from clustermgr.plan import entries, files, probe
from clustermgr.plan.events import Emit, Event, EventKind, ignore
from clustermgr.plan.model import (
    ApplyReport,
    FileChange,
    FileDiff,
    Outcome,
    Plan,
    Step,
    StepResult,
)
from clustermgr.plan.probe import Probed
from clustermgr.plan.rolling import RollingTurns
from clustermgr.plan.timing import StepTiming
from clustermgr.remote.command import Command
from clustermgr.remote.connection import Connection
from clustermgr.remote.metered import MeteredConnection
from clustermgr.remote.result import Result
from clustermgr.words import count

Connect = Callable[[str], Awaitable[Connection]]

OUTPUT_TAIL_LINES = 20
ROLL_STOPPED = "the roll stopped: an earlier host failed"
CANCELLED = "cancelled before it started"
#: Outcomes whose result lists the step's commands: they ran, or would run.
_ACTING = frozenset({Outcome.CHANGED, Outcome.FAILED, Outcome.WOULD_CHANGE})


@dataclass
class _Progress:
    """How many of a plan's steps ran (skipped ones never do), of how many it has, and
    how many changed something (or failed halfway): what a probe found before that is
    out of date."""

    planned: int
    done: int = 0
    changes: int = 0


class _Probes:
    """A host's steps as its probes found them (see :mod:`clustermgr.plan.probe`).

    The first probe reads every step of the host in one round trip.  Once any step of
    the plan changed something, what it found is out of date: each later step is then
    probed alone, just before it is decided (one round trip).  A step the probe cannot
    read (its check's input is a secret) is read the long way: its files one by one,
    then its check.  A read that fails leaves the step to be decided as it is applied,
    which reports the problem.
    """

    def __init__(self, conn: MeteredConnection, steps: list[Step], progress: _Progress) -> None:
        self._conn = conn
        self._steps = steps
        self._progress = progress
        self._found: dict[int, Probed] = {}
        self._at: int | None = None

    async def state(self, index: int) -> Probed | None:
        step = self._steps[index]
        if not step.files and step.check is None:
            return None  # nothing to read: it always runs
        changes = self._progress.changes
        if self._at != changes:
            ahead = self._steps[index:] if self._at is None else [step]
            self._found, self._at = await self._probe(index, ahead), changes
        if index not in self._found:
            found = await self._long_way(step)
            if found is not None and self._at == self._progress.changes:
                self._found[index] = found
            return found
        return self._found[index]

    async def _probe(self, index: int, ahead: list[Step]) -> dict[int, Probed]:
        if not any(probe.probeable(s) for s in ahead):
            return {}
        try:
            result = await self._conn.read(probe.probe_command(ahead))
        except ClustermgrError:
            return {}
        return {index + i: state for i, state in probe.parse_probe(ahead, result.stdout).items()}

    async def _long_way(self, step: Step) -> Probed | None:
        try:
            current = {change.path: await _read(self._conn, change.path) for change in step.files}
            passed = None if step.check is None else (await self._conn.read(step.check)).ok
        except ClustermgrError:
            return None
        matching = frozenset(c.path for c in step.files if current[c.path] == c.content)
        missing = frozenset(path for path, content in current.items() if content is None)
        return Probed(matching, missing, passed)


class StepFailed(Exception):
    """Internal: ends a step as failed, after its files were restored."""

    def __init__(self, reason: str, result: Result | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.result = result


class Executor:
    def __init__(
        self,
        connect: Connect,
        emit: Emit = ignore,
        *,
        backup_root: str = files.BACKUP_ROOT,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        self._connect = connect
        self._emit = emit
        self._backup_root = backup_root
        #: Asked between steps: once true, the remaining steps are skipped.
        self._cancelled = cancelled

    async def apply(self, plan: Plan, *, dry_run: bool = False) -> ApplyReport:
        verb = "dry run of" if dry_run else "applying"
        progress = _Progress(len(plan.steps))
        self._emit(
            Event(
                EventKind.PLAN_STARTED,
                f"{verb} {plan.title}: {count(progress.planned, 'step')}",
                done=0,
                planned=progress.planned,
            )
        )
        turns = RollingTurns(plan)
        results: dict[str, list[StepResult]] = {host: [] for host in plan.hosts}
        await asyncio.gather(
            *(
                self._run_host(plan.for_host(h), h, results[h], turns, dry_run, progress)
                for h in plan.hosts
            )
        )
        report = ApplyReport(plan.title, dry_run, results)
        summary = ", ".join(f"{report.count(o)} {o.value}" for o in Outcome if report.count(o))
        self._emit(Event(EventKind.PLAN_FINISHED, f"{plan.title}: {summary or 'nothing to do'}"))
        return report

    async def _run_host(
        self,
        steps: list[Step],
        host: str,
        out: list[StepResult],
        turns: RollingTurns,
        dry_run: bool,
        progress: _Progress,
    ) -> None:
        opening = time.monotonic()
        try:
            try:
                conn = MeteredConnection(await self._connect(host))
            except ClustermgrError as exc:
                self._emit(Event(EventKind.HOST_FAILED, exc.message, host=host))
                first = _finished(steps[0], Outcome.FAILED, exc.message)
                out.append(replace(first, timing=StepTiming(connect=time.monotonic() - opening)))
                out.extend(_finished(s, Outcome.SKIPPED, "host unreachable") for s in steps[1:])
                return
            connect = time.monotonic() - opening
            host_failed = False
            probes = _Probes(conn, steps, progress)
            for index, step in enumerate(steps):
                group = step.rolling_group
                round_trips, ssh = conn.round_trips, conn.seconds
                turn_wait = 0.0
                if host_failed:
                    result = _finished(step, Outcome.SKIPPED, "an earlier step on this host failed")
                elif self._cancelled():
                    result = _finished(step, Outcome.SKIPPED, CANCELLED)
                else:
                    probing = time.monotonic()
                    probed = await probes.state(index)
                    # An unchanged step restarts nothing: it does not wait for its turn.
                    if group is not None and not (probed and probed.unchanged(step)):
                        waiting = time.monotonic()
                        await turns.wait_turn(group, host)
                        turn_wait = time.monotonic() - waiting
                        probed = await probes.state(index)  # others changed while it waited
                    if group is not None and turns.failed(group):
                        result = _finished(step, Outcome.SKIPPED, ROLL_STOPPED)
                    else:
                        # The probe is the step's check: its time is the step's.
                        probe_time = time.monotonic() - probing - turn_wait
                        result = await self._run_step(conn, step, dry_run, progress, probed)
                        result = replace(result, duration=result.duration + probe_time)
                timing = StepTiming(
                    turn_wait, connect, conn.round_trips - round_trips, conn.seconds - ssh
                )
                result = replace(result, timing=timing)
                connect = 0.0  # the connection is open: only the first step waited for it
                host_failed = host_failed or result.outcome is Outcome.FAILED
                if group is not None:
                    turns.step_done(group, host, failed=result.outcome is Outcome.FAILED)
                out.append(result)
        finally:
            turns.host_done(host)

    async def _run_step(
        self,
        conn: MeteredConnection,
        step: Step,
        dry_run: bool,
        progress: _Progress,
        probed: Probed | None,
    ) -> StepResult:
        self._emit(Event(EventKind.STEP_STARTED, step.title, host=step.host, step=step.id))
        started = time.monotonic()
        try:
            result = await self._decide_and_apply(conn, step, dry_run, probed)
        except ClustermgrError as exc:
            result = _finished(step, Outcome.FAILED, exc.message)
        result = _with_duration(result, time.monotonic() - started)
        progress.done += 1
        if not dry_run and result.outcome in (Outcome.CHANGED, Outcome.FAILED):
            progress.changes += 1
        self._emit(
            Event(
                EventKind.STEP_FINISHED,
                f"{step.title}: {result.outcome.value} ({result.reason})",
                host=step.host,
                step=step.id,
                outcome=result.outcome,
                done=progress.done,
                planned=progress.planned,
            )
        )
        return result

    async def _decide_and_apply(
        self, conn: MeteredConnection, step: Step, dry_run: bool, probed: Probed | None
    ) -> StepResult:
        current: dict[str, bytes | None] = {}
        for change in step.files:
            if probed is not None and change.path in probed.matching:
                current[change.path] = change.content
            elif probed is not None and change.path in probed.missing:
                current[change.path] = None
            else:
                current[change.path] = await _read(conn, change.path)
        stale = [change for change in step.files if current[change.path] != change.content]
        diffs = tuple(files.file_diff(c, current[c.path]) for c in stale)
        if step.check is None:
            check_passed = False
        elif probed is not None:
            check_passed = bool(probed.check_passed)
        else:
            check_passed = (await conn.read(step.check)).ok
        if not stale and (check_passed or (step.check is None and step.files)):
            reason = step.unchanged_reason if step.check is not None else "files already up to date"
            return _finished(step, Outcome.UNCHANGED, reason)
        if dry_run:
            return _finished(step, Outcome.WOULD_CHANGE, step.reason, diffs=diffs)
        token = uuid.uuid4().hex[:12]
        installed: list[tuple[FileChange, bool]] = []
        try:
            staged = await self._stage_all(conn, stale, token)
            for change, candidate in zip(stale, staged, strict=True):
                await _must(
                    conn,
                    files.install_command(candidate, change, self._backup_root),
                    f"install {change.path}",
                )
                installed.append((change, current[change.path] is not None))
            for change, _ in installed:
                if change.validate is not None and change.validate_in_place:
                    await self._validate(conn, change, change.path)
            for command in step.commands:
                await self._run_command(conn, step, command)
            verify = step.verify or step.check
            if verify is not None:
                result = await conn.run(verify)
                if not result.ok:
                    raise StepFailed("verification failed after applying", result)
        except StepFailed as failure:
            reason = failure.reason
            if installed or step.rollback:
                reason += await self._restore(conn, step, installed, token)
            res = failure.result
            return _finished(
                step,
                Outcome.FAILED,
                reason,
                exit_status=res.exit_status if res else None,
                stderr_tail=res.stderr_tail() if res else "",
                diffs=diffs,
            )
        return _finished(step, Outcome.CHANGED, step.reason, diffs=diffs)

    async def _stage_all(
        self, conn: Connection, changes: list[FileChange], token: str
    ) -> list[str]:
        """Stage every file before installing any: one invalid file installs none."""
        staged: list[str] = []
        try:
            for change in changes:
                staged.append(await self._stage(conn, change, token))
        except StepFailed:
            for candidate in staged:
                await conn.run(files.discard_command(candidate))
            raise
        return staged

    async def _stage(self, conn: Connection, change: FileChange, token: str) -> str:
        """Write the candidate beside the target and validate it there."""
        candidate = files.candidate_path(change.path, token)
        await _must(conn, files.prepare_dir_command(change.path), f"create folder of {change.path}")
        await conn.put(candidate, change.content, mode=change.mode)
        if change.validate is not None and not change.validate_in_place:
            await self._validate(conn, change, candidate)
        return candidate

    async def _validate(self, conn: Connection, change: FileChange, path: str) -> None:
        assert change.validate is not None
        result = await conn.run(change.validate(path))
        if not result.ok:
            if path != change.path:
                await conn.run(files.discard_command(path))
            raise StepFailed(f"validation of {change.path} failed; the previous file stays", result)

    async def _run_command(self, conn: Connection, step: Step, command: Command) -> None:
        result = await conn.run(command)
        # Blank lines say nothing: a log line per host holds words or is not written.
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        for line in lines[-OUTPUT_TAIL_LINES:]:
            self._emit(Event(EventKind.STEP_OUTPUT, line, host=step.host, step=step.id))
        if not result.ok:
            # The step lists its commands; the reason names this one and stays a sentence.
            raise StepFailed(f"{command.label()} exited with status {result.exit_status}", result)

    async def _restore(
        self, conn: Connection, step: Step, installed: list[tuple[FileChange, bool]], token: str
    ) -> str:
        """Put the previous files back and run the rollback commands; describe what happened."""
        problems: list[str] = []
        for change, existed in reversed(installed):
            result = await conn.run(
                files.restore_command(
                    change.path, existed=existed, token=token, backup_root=self._backup_root
                )
            )
            if not result.ok:
                problems.append(f"restoring {change.path} failed: {result.stderr_tail(2)}")
        for command in step.rollback:
            result = await conn.run(command)
            if not result.ok:
                problems.append(f"rollback `{command}` failed: {result.stderr_tail(2)}")
        if problems:
            return "; " + "; ".join(problems)
        restored = ", ".join(c.path for c, _ in installed)
        return f"; restored {restored}" if restored else "; rolled back"


async def _read(conn: MeteredConnection, path: str) -> bytes | None:
    try:
        return await conn.get(path)
    except RemoteFileNotFound:
        return None


async def _must(conn: Connection, command: Command, what: str) -> None:
    result = await conn.run(command)
    if not result.ok:
        raise StepFailed(f"{what} failed", result)


def _finished(
    step: Step,
    outcome: Outcome,
    reason: str,
    *,
    exit_status: int | None = None,
    stderr_tail: str = "",
    diffs: tuple[FileDiff, ...] = (),
) -> StepResult:
    return StepResult(
        step_id=step.id,
        host=step.host,
        title=step.title,
        outcome=outcome,
        reason=reason,
        exit_status=exit_status,
        stderr_tail=stderr_tail,
        diffs=diffs + tuple(entries.entry_diff(e) for e in step.entries)
        if outcome in _ACTING
        else diffs,
        warnings=step.warnings,
        commands=tuple(c.masked() for c in step.commands) if outcome in _ACTING else (),
    )


def _with_duration(result: StepResult, seconds: float) -> StepResult:
    return replace(result, duration=seconds)
