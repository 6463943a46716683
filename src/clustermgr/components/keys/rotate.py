"""``keys rotate``: the three phases of a rotation, each written to every node and
checked there before the next one starts (see :mod:`.rotation`).

Each phase is one audit entry (``keys.rotate.add``, ``...sign``, ``...remove``).
The sealed keystore and the rotation's state change in one transaction, and the
state moves to the next phase only once every node holds the phase's keystore: a
node that does not answer fails the phase, the others keep what they got, and the
next run writes the same keystore again and goes on.

The last phase waits until the token lifetime has passed since the new key started
signing (the job waits, cancellable; with ``wait`` off it ends and says when a run
can finish).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from clustermgr.audit import service as audit
from clustermgr.components.keys import keystore, nodes
from clustermgr.components.keys.rotation import (
    TITLES,
    Phase,
    Rotation,
    describe,
    edited,
    phases_left,
    start,
)
from clustermgr.components.keys.store import (
    save,
    seal_keystore,
    sealed_keystore,
    section,
    state_of,
    with_state,
)
from clustermgr.core.access import HostAccess, open_access
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import ClustermgrError, InvalidInput
from clustermgr.plan.events import Emit, Event, EventKind, ignore
from clustermgr.plan.model import ApplyReport

#: How long a node may take to publish a key it was given.
PUBLISH_TIMEOUT = 60.0
POLL = 1.0


@dataclass(frozen=True)
class PhaseResult:
    phase: Phase
    #: What it does.
    what: str
    #: ``done``, ``would run``, ``failed``, ``waiting`` (not due yet), ``not run``.
    state: str
    detail: str = ""
    report: ApplyReport | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase.value,
            "title": TITLES[self.phase],
            "what": self.what,
            "state": self.state,
            "detail": self.detail,
            "steps": self.report.as_dict() if self.report is not None else None,
        }


@dataclass
class RotateReport:
    cluster: str
    dry_run: bool
    phases: list[PhaseResult] = field(default_factory=list)
    #: The rotation in progress once the run ended (None: none).
    rotation: Rotation | None = None
    token_lifetime: int = 0

    @property
    def ok(self) -> bool:
        return not any(p.state in ("failed", "not run") for p in self.phases)

    @property
    def message(self) -> str:
        failed = next((p for p in self.phases if p.state == "failed"), None)
        if failed is not None:
            return f"{TITLES[failed.phase]} failed: {failed.detail}; run again to resume"
        if self.dry_run:
            return f"{len(self.phases)} phase(s) to run"
        if any(p.state == "not run" for p in self.phases):
            return "stopped; run again to resume"
        waiting = next((p for p in self.phases if p.state == "waiting"), None)
        if waiting is not None:
            return waiting.detail
        return "the keys are rotated"

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "cluster": self.cluster,
            "dry_run": self.dry_run,
            "message": self.message,
            "token_lifetime": self.token_lifetime,
            "phases": [p.as_dict() for p in self.phases],
            "rotation": self.rotation.as_dict() if self.rotation else None,
        }


class PhaseFailed(Exception):
    def __init__(self, reason: str, report: ApplyReport | None = None) -> None:
        super().__init__(reason)
        self.reason, self.report = reason, report


async def rotate(
    manager: Manager,
    cluster_name: str,
    *,
    dry_run: bool,
    actor: str = "system",
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
    wait: bool = True,
    restart: bool = False,
) -> RotateReport:
    """Plan (``dry_run``: the phases left and what each does) or run the rotation from
    where it stands.  ``restart`` drops a rotation in progress and starts a new one."""
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        state = state_of(section(cluster))
        _, document = await sealed_keystore(store, cluster)  # InvalidInput: none
        hosts = nodes.identity_nodes(cluster)
    rotation = None if restart else state.rotation
    lifetime = state.settings.lifetime
    report = RotateReport(
        cluster_name, dry_run, rotation=rotation, token_lifetime=state.settings.token_lifetime
    )
    now = utcnow()
    if dry_run:
        report.phases = [
            PhaseResult(p, describe(p, rotation, lifetime, now), "would run")
            for p in phases_left(rotation)
        ]
        if rotation is not None and rotation.phase is not Phase.ADD:
            try:
                edited(document, rotation, None)
            except InvalidInput as exc:
                first = report.phases[0]
                hint = f" ({exc.hint})" if exc.hint else ""
                report.phases[0] = replace(first, state="failed", detail=exc.message + hint)
        return report
    if not hosts:
        raise InvalidInput(f"cluster {cluster_name!r} has no identity node")
    async with await open_access(manager, cluster_name, hosts) as access:
        run = _Run(manager, cluster_name, access, hosts, actor, emit, cancelled, lifetime, wait)
        left = list(phases_left(rotation))
        while left:
            phase = left.pop(0)
            if cancelled():
                report.phases.append(PhaseResult(phase, TITLES[phase], "not run", "cancelled"))
                continue
            result, rotation = await run.phase(phase, rotation, restart=restart)
            restart = False
            report.phases.append(result)
            report.rotation = rotation
            if result.state == "failed":
                report.phases += [PhaseResult(p, TITLES[p], "not run") for p in left]
            if result.state != "done":
                break
    return report


@dataclass
class _Run:
    manager: Manager
    cluster: str
    access: HostAccess
    hosts: list[str]
    actor: str
    emit: Emit
    cancelled: Callable[[], bool]
    lifetime: timedelta
    wait: bool
    #: Each node's Gluu chroot, as read by the phase's write.
    _roots: dict[str, str | None] = field(default_factory=dict)

    def say(self, message: str, host: str | None = None) -> None:
        self.emit(Event(EventKind.STEP_OUTPUT, message, host=host))

    async def phase(
        self, phase: Phase, rotation: Rotation | None, *, restart: bool
    ) -> tuple[PhaseResult, Rotation | None]:
        what = describe(phase, rotation, self.lifetime, utcnow())
        if phase is Phase.REMOVE and rotation is not None:
            due = rotation.removable_at(self.lifetime)
            if due is not None and not await self._until(due):
                later = (
                    f"the old keys can be removed at {due.isoformat(timespec='seconds')} "
                    "(the token lifetime after the new key started signing): run again then"
                )
                waited = "not run" if self.cancelled() else "waiting"
                return PhaseResult(phase, what, waited, later), rotation
        detail: dict[str, object] = {"phase": phase.value}
        if rotation is not None:
            detail["new_kid"] = rotation.new_kid
        async with audit.audited(
            self.manager,
            actor=self.actor,
            action=f"keys.rotate.{phase.value}",
            target=self.cluster,
            detail=detail,
        ) as outcome:
            try:
                rotation, content = await self._seal(phase, rotation, restart=restart)
                outcome.detail["new_kid"] = rotation.new_kid
                report = await self._write(phase, content)
                await self._check(phase, rotation, content)
                rotation = await self._advance(rotation)
            except (PhaseFailed, ClustermgrError) as exc:
                reason = exc.reason if isinstance(exc, PhaseFailed) else exc.message
                outcome.result = "failed"
                outcome.detail["error"] = reason
                failed = exc.report if isinstance(exc, PhaseFailed) else None
                self.say(f"{TITLES[phase]}: failed: {reason}")
                return PhaseResult(phase, what, "failed", reason, failed), rotation
        self.say(f"{TITLES[phase]}: done on every node")
        return PhaseResult(phase, what, "done", report=report), rotation

    async def _until(self, due: datetime) -> bool:
        """Wait until ``due`` (when waiting is on); False when it is not reached."""
        if utcnow() >= due:
            return True
        if not self.wait:
            return False
        self.say(f"waiting until {due.isoformat(timespec='seconds')} to remove the old keys")
        while utcnow() < due:
            if self.cancelled():
                return False
            await asyncio.sleep(min(POLL, max(0.0, (due - utcnow()).total_seconds())))
        return True

    async def _seal(
        self, phase: Phase, rotation: Rotation | None, *, restart: bool
    ) -> tuple[Rotation, bytes]:
        """The phase's keystore sealed and the state kept, in one transaction."""
        async with self.manager.store() as store:
            cluster = await store.cluster(self.cluster)
            raw = section(cluster)
            sealed, document = await sealed_keystore(store, cluster)
            kept = state_of(raw).rotation
            if kept != rotation and not restart:
                raise InvalidInput("another rotation changed the keys meanwhile; run again")
            jwk = None
            created = None
            if rotation is None:
                jwk = keystore.new_key()
                now = utcnow()
                rotation = start(document, jwk, now)
                created = {**state_of(raw).created, rotation.new_kid: now}
                self.say(f"new key {rotation.new_kid[:12]} made")
            changed = edited(document, rotation, jwk)
            content = keystore.text(changed)
            if content != sealed:
                await seal_keystore(store, cluster, content)
            save(store, cluster, with_state(raw, rotation, created=created))
        return rotation, content

    async def _write(self, phase: Phase, content: bytes) -> ApplyReport:
        roots, silent = await nodes.roots(self.access, self.hosts)
        if silent:
            raise PhaseFailed("; ".join(silent.values()))
        plan = nodes.write_plan(
            self.cluster, content, roots, f"{TITLES[phase]}: the sealed keystore"
        )
        report = await nodes.write(self.access, plan, emit=self.emit, cancelled=self.cancelled)
        if not report.ok:
            hosts = ", ".join(report.failed_hosts) or "a node"
            raise PhaseFailed(f"writing the keystore failed on {hosts}", report)
        self._roots = roots
        return report

    async def _check(self, phase: Phase, rotation: Rotation, content: bytes) -> None:
        """Every node holds ``content`` and publishes what it should: the new key once it
        was added, no old key once they were removed (a node's app takes a moment to
        read its keystore again: asked until :data:`PUBLISH_TIMEOUT`)."""
        sha = hashlib.sha256(content).hexdigest()
        gone = set(rotation.old_kids) if phase is Phase.REMOVE else set()
        deadline = asyncio.get_running_loop().time() + PUBLISH_TIMEOUT
        timeout = self.manager.settings.connect_timeout
        while True:
            found = await nodes.read_nodes(self.access, self._roots, timeout=timeout)
            wrong = [
                n.error or f"{n.host} does not hold the sealed keystore"
                for n in found
                if n.sha256 != sha
            ]
            if wrong:  # written and then changed: waiting mends nothing
                raise PhaseFailed("; ".join(wrong))
            problems = _unpublished(found, {rotation.new_kid}, gone)
            if not problems:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise PhaseFailed("; ".join(problems))
            if self.cancelled():
                raise PhaseFailed("cancelled while waiting for every node to publish its keys")
            await asyncio.sleep(POLL)

    async def _advance(self, rotation: Rotation) -> Rotation | None:
        now = utcnow()
        after = rotation.advanced(now)
        async with self.manager.store() as store:
            cluster = await store.cluster(self.cluster)
            raw = section(cluster)
            if after is None:
                _, document = await sealed_keystore(store, cluster)
                left = set(keystore.kids(document))
                created = {k: v for k, v in state_of(raw).created.items() if k in left}
                save(store, cluster, with_state(raw, None, created=created, last_rotated=now))
            else:
                save(store, cluster, with_state(raw, after))
        return after


def _unpublished(found: list[nodes.NodeKeys], wanted: set[str], gone: set[str]) -> list[str]:
    """Each node that does not publish every key of ``wanted``, or still one of ``gone``."""
    out = []
    for node in found:
        if node.kids is None:
            out.append(node.error or f"{node.host} publishes no keys")
        elif missing := sorted(wanted - set(node.kids)):
            out.append(f"{node.host} does not publish key {missing[0][:12]}")
        elif kept := sorted(gone & set(node.kids)):
            out.append(f"{node.host} still publishes key {kept[0][:12]}")
    return out
