"""Every job kind's result has a view on its job page, and a failed result shows red.

A plan or apply (and any kind returning an ApplyReport) is shown by the job page's
step tables; every other kind names a ``report_template``.  Each template is
rendered here with results made by the real report classes, good and bad.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, get_type_hints

import pytest
from fastapi.templating import Jinja2Templates

from clustermgr.components.cache.stats import PoolView, ServerView
from clustermgr.components.cache.status import REDIS, TWEMPROXY, CacheStatus, Hop, NodeChain
from clustermgr.components.files.model import Node, NodeFile
from clustermgr.components.files.model import State as FileState
from clustermgr.components.files.status import FilesStatus
from clustermgr.components.keys.nodes import NodeKeys
from clustermgr.components.keys.rotate import PhaseResult, RotateReport
from clustermgr.components.keys.rotation import Phase, Rotation
from clustermgr.components.keys.settings import KeysSettings
from clustermgr.components.keys.status import KeysStatus, SealedKey
from clustermgr.components.lb.status import LbStatus
from clustermgr.components.ldap.compare import Comparison, NodeReport, SubtreeDiff
from clustermgr.components.ldap.csn import PairStatus
from clustermgr.components.ldap.status import LdapStatus, NodeStatus
from clustermgr.components.registry import COMPONENTS, job_kinds
from clustermgr.inventory.schemas import NodeState
from clustermgr.jobs.deploy import DeployReport, StageReport, StageStatus
from clustermgr.jobs.kinds import Report
from clustermgr.jobs.lifecycle import LifecycleReport, PartReport, PartStatus
from clustermgr.jobs.models import JobState
from clustermgr.jobs.views import JobView
from clustermgr.monitor.views import AlertView
from clustermgr.plan.model import ApplyReport, Outcome, StepResult
from clustermgr.services.preflight import CheckResult, PreflightReport, Status
from clustermgr.services.reachability import MANAGER, Matrix, Pair, PairResult, State
from clustermgr.web.app import templates
from clustermgr.web.assets import StaticAssets
from clustermgr.web.context import STATIC

NOW = datetime(2026, 12, 6, 11, 0, tzinfo=UTC)
IDP1, IDP2, PROXY = "idp1.lab.test", "idp2.lab.test", "proxy.lab.test"


def _cache(up: bool) -> CacheStatus:
    why = "" if up else "connection refused"
    chain = NodeChain(
        IDP1,
        "idp1",
        [Hop(IDP1, REDIS, up, why, 6379)],
        redis={"used_memory": 1048576},
    )
    pool = PoolView(1, (ServerView("idp1", not up, 0, 3, 0, 0, 12),), 1)
    path = {"written_on": IDP1, "read_on": IDP2, "ok": up, "error": "" if up else "no key"}
    problems = [] if up else [f"redis on {IDP1} is down: {why}"]
    return CacheStatus(
        "lab", PROXY, [chain], [Hop(PROXY, TWEMPROXY, True, "", 22122)], pool, path, problems
    )


def _lb(up: bool) -> LbStatus:
    backend = {
        "host": IDP1,
        "address": "10.0.0.1:443",
        "state": "up" if up else "down",
        "healthy": up,
        "status": 200 if up else None,
        "seconds": 0.012 if up else None,
        "error": "" if up else "timed out",
        "checked_at": NOW.isoformat(),
    }
    alerts = (
        []
        if up
        else [AlertView(1, "lab", "lb", "backend:idp1", "critical", "idp1 is down", NOW, NOW, None)]
    )
    warnings = [] if up else ["idp1 names the issuer https://idp1.lab.test"]
    return LbStatus(
        "lab",
        PROXY,
        True,
        [backend],
        {"stub_status": {"active": 1}},
        issuer="https://proxy1.lab.test",
        warnings=warnings,
        open_alerts=alerts,
    )


def _files(ok: bool) -> FilesStatus:
    cert = "/etc/certs/httpd.crt"
    sealed = {cert: "a" * 64}
    there = NodeFile(cert, FileState.SAME, "a" * 64)
    drifted = there if ok else NodeFile(cert, FileState.DIFFERS, "b" * 64)
    nodes = (Node(IDP1, (there,)), Node(IDP2, (drifted,)))
    alerts = (
        []
        if ok
        else [AlertView(2, "lab", "files", f"file-drift:{IDP2}:{cert}", "critical", "differs",
                        NOW, NOW, None)]
    )  # fmt: skip
    return FilesStatus("lab", sealed, nodes, alerts)


def _ldap(ok: bool) -> LdapStatus:
    pair = PairStatus(IDP1, IDP2, 2, ok, 0.0 if ok else 30.0)
    problems = [] if ok else [f"{IDP1} is 30 s behind {IDP2}"]
    node = NodeStatus(IDP1, {"002": "20261206110000.000000Z#000000#002#000000"})
    return LdapStatus("lab", [node], {IDP1: 1, IDP2: 2}, [pair], ok, 0.2, problems)


def _compare(ok: bool) -> Comparison:
    if ok:
        return Comparison("identical", None, (NodeReport(IDP1), NodeReport(IDP2)), ())
    subtree = SubtreeDiff("ou=people,o=gluu", (IDP2,), {IDP1: 10, IDP2: 9})
    return Comparison("different", None, (NodeReport(IDP1), NodeReport(IDP2)), (subtree,))


LDAPS_1_TO_2 = Pair(IDP1, IDP2, "10.0.0.2", 636, "LDAPS")
RULE = "nft insert rule inet filter input ip saddr 10.0.0.1 tcp dport 636 accept"


def _preflight(ok: bool) -> PreflightReport:
    """Bad: every host check passes, but one pair of members is dropped by a firewall."""
    disk = CheckResult(IDP1, "disk", Status.PASS, "2 GiB free")
    ssh = PairResult(Pair(MANAGER, IDP1, "10.0.0.1", 22, "SSH"), State.OPEN, "up")
    ldaps = (
        PairResult(LDAPS_1_TO_2, State.OPEN, "the service answered")
        if ok
        else PairResult(LDAPS_1_TO_2, State.FILTERED, "no answer within 3 s", RULE)
    )
    network = Matrix((MANAGER, IDP1, IDP2), (ssh, ldaps))
    return PreflightReport((CheckResult(IDP1, "ssh login", Status.PASS, "root"), disk), network)


def _deploy(ok: bool, dry_run: bool) -> DeployReport:
    step = StepResult(f"{IDP1}:write", IDP1, "write a file", Outcome.CHANGED, "it differed")
    base = StageReport(
        "base", "Base preparation", StageStatus.APPLIED, ApplyReport("b", False, {IDP1: [step]})
    )
    if ok:
        return DeployReport(dry_run, (base,))
    failed = StageReport("ldap", "LDAP replication", StageStatus.FAILED, note="idp2 is unreachable")
    return DeployReport(dry_run, (base, failed))


def _keys_rotate(ok: bool, dry_run: bool) -> RotateReport:
    rotation = Rotation("NEWKID", ("OLDKID",), Phase.SIGN, NOW)
    if dry_run:
        phases = [PhaseResult(p, f"do {p.value}", "would run") for p in Phase]
        if not ok:  # the new key is no longer in the sealed keystore
            phases[1] = PhaseResult(Phase.SIGN, "sign", "failed", "no key NEWKID")
        return RotateReport("lab", True, phases, rotation)
    add = PhaseResult(Phase.ADD, "add NEWKID", "done")
    sign = PhaseResult(Phase.SIGN, "sign", "done" if ok else "failed", "" if ok else "idp2 down")
    rest = PhaseResult(Phase.REMOVE, "remove OLDKID", "done" if ok else "not run")
    return RotateReport("lab", False, [add, sign, rest], None if ok else rotation, 15)


def _keys_status(ok: bool) -> KeysStatus:
    keys = (SealedKey("NEWKID", True, NOW), SealedKey("OLDKID", False, None))
    nodes = (
        NodeKeys(IDP1, "a" * 64, ("NEWKID", "OLDKID")),
        NodeKeys(IDP2, "a" * 64 if ok else "b" * 64, ("NEWKID", "OLDKID")),
    )
    return KeysStatus("lab", KeysSettings(), keys, "a" * 64, nodes=nodes)


def _node(ok: bool, kind: str) -> LifecycleReport:
    node = "idp3.lab.test"
    step = StepResult(f"{node}:setup", node, "run the setup", Outcome.CHANGED, "installed")
    install = PartReport(
        "install",
        "join",
        "Gluu Server install",
        PartStatus.DONE,
        ApplyReport("i", False, {node: [step]}),
    )
    if kind == "node-add":
        last = PartReport("lb", "admit", "Load balancer", PartStatus.DONE)
        if not ok:
            last = PartReport("cache", "join", "Cache", PartStatus.FAILED, note="idp3 has no Redis")
        state = NodeState.MEMBER if ok else NodeState.JOINING
        return LifecycleReport(kind, node, (install, last), state)
    leave = PartReport(
        "ldap", "leave", "LDAP replication", PartStatus.DONE if ok else PartStatus.FAILED
    )
    return LifecycleReport(kind, node, (leave,), None if ok else NodeState.LEAVING)


#: Kind -> a result of the kind's own report class, good (True) or bad (False).
SAMPLES: dict[str, Any] = {
    "preflight": _preflight,
    "ldap-status": _ldap,
    "ldap-compare": _compare,
    "cache-status": _cache,
    "lb-status": _lb,
    "files-status": _files,
    "keys-rotate-plan": lambda ok: _keys_rotate(ok, True),
    "keys-rotate": lambda ok: _keys_rotate(ok, False),
    "keys-status": _keys_status,
    "node-add": lambda ok: _node(ok, "node-add"),
    "node-remove": lambda ok: _node(ok, "node-remove"),
    "deploy-plan": lambda ok: _deploy(ok, True),
    "deploy": lambda ok: _deploy(ok, False),
}

#: What each view names, whatever the result.
NAMED = {
    "preflight": ["disk", IDP1, IDP2, MANAGER, "636", "Every pair connects"],
    "ldap-status": [IDP1, IDP2],
    "ldap-compare": ["identical"],
    "cache-status": [IDP1, "redis", PROXY, "twemproxy"],
    "lb-status": [IDP1, "10.0.0.1:443", "12 ms", "https://proxy1.lab.test"],
    "files-status": [IDP1, IDP2, "/etc/certs/httpd.crt", "aaaaaaaaaaaaaaaa"],
    "keys-rotate-plan": ["lab"],
    "keys-rotate": ["add the new key", "sign with the new key", "remove the old keys"],
    "keys-status": [IDP1, IDP2, "NEWKID", "OLDKID"],
    "node-add": ["Adding idp3.lab.test", "Gluu Server install", "1 changed", "member"],
    "node-remove": ["Taking out idp3.lab.test", "LDAP replication", "left the inventory"],
    "deploy-plan": ["Base preparation", "1 changed"],
    "deploy": ["Base preparation", "1 changed"],
}


def _returns_apply_report(kind: Any) -> bool:
    hint = get_type_hints(kind.run).get("return")
    return isinstance(hint, type) and issubclass(hint, ApplyReport)


def _job(kind: str, result: Report) -> JobView:
    state = JobState.SUCCEEDED if result.ok else JobState.FAILED
    return JobView(
        9, kind, "lab", state, False, "admin", {}, "embedded",
        NOW, NOW, NOW, False, result.as_dict(), None,
    )  # fmt: skip


@pytest.fixture(scope="module")
def pages() -> Jinja2Templates:
    return templates(COMPONENTS, StaticAssets(STATIC))


def test_every_kind_without_step_tables_has_a_report_template() -> None:
    plans_and_applies = {k.name for c in COMPONENTS for k in (c.plan, c.apply) if k is not None}
    templated = {k.name for k in job_kinds() if k.report_template}
    for kind in job_kinds():
        if kind.name in plans_and_applies or _returns_apply_report(kind):
            continue
        assert kind.report_template, f"job kind {kind.name} shows no result on its page"
    assert templated == set(SAMPLES), "every templated kind has a sample result here"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_report_template_renders_a_real_result(pages: Jinja2Templates, name: str) -> None:
    kind = job_kinds().get(name)
    assert kind.report_template is not None
    good = pages.env.get_template(kind.report_template).render(job=_job(name, SAMPLES[name](True)))
    for text in NAMED[name]:
        assert text in good, f"{name}'s view lacks {text!r}"
    assert "check-fail" not in good and "health-critical" not in good and 'role="alert"' not in good


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_failed_result_is_red_and_never_says_all_is_well(
    pages: Jinja2Templates, name: str
) -> None:
    kind = job_kinds().get(name)
    assert kind.report_template is not None
    result = SAMPLES[name](False)
    assert not result.ok
    bad = pages.env.get_template(kind.report_template).render(job=_job(name, result))
    assert any(red in bad for red in ("check-fail", "health-critical", 'class="alert"')), bad
    assert 'class="notice"' not in bad and "No problem found" not in bad
    assert 'check-pass">No check failed' not in bad
    if name == "lb-status":
        assert "Warning: idp1 names the issuer https://idp1.lab.test" in bad


def test_the_preflight_matrix_highlights_a_blocked_pair_with_its_rule(
    pages: Jinja2Templates,
) -> None:
    kind = job_kinds().get("preflight")
    assert kind.report_template is not None
    page = pages.env.get_template(kind.report_template).render(
        job=_job("preflight", _preflight(False))
    )
    grid = page[page.index('<table class="reach">') :]
    grid = grid[: grid.index("</table>")]
    rows = grid.split("<tr>")[2:]  # after the header row: one row per source
    assert [r.split("</th>")[0].rsplit(">", 1)[-1] for r in rows] == [MANAGER, IDP1]
    idp1_cells = rows[1].split("<td")[1:]  # columns idp1, idp2
    assert "blocked" not in idp1_cells[0] and 'class="blocked"' in idp1_cells[1]
    assert "636" in idp1_cells[1] and "filtered" in idp1_cells[1] and RULE in idp1_cells[1]
    assert grid.count('class="blocked"') == 1
    assert "Some pairs do not connect" in page and "Some checks failed" in page
