"""A cluster's rules in the database (SQLite and PostgreSQL): the defaults until changed,
changes kept whole, reset, audited, for admins only, every value checked."""

from __future__ import annotations

import pytest

from clustermgr.audit import service as audit
from clustermgr.auth.roles import UserRole
from clustermgr.components.metrics import rulestore
from clustermgr.components.metrics.rules import UNREACHABLE, default_rules
from clustermgr.core.manager import Manager
from clustermgr.errors import Forbidden, InvalidInput, NotFound
from clustermgr.monitor.alerts import Severity
from clustermgr.services import clusters

pytestmark = pytest.mark.integration


async def test_a_cluster_has_the_defaults_until_it_changes_them(manager: Manager) -> None:
    await clusters.create_cluster(manager, "c")
    states = await rulestore.rules(manager, "c")
    defaults = default_rules(manager.settings.metrics_unreachable_after)
    assert [s.rule for s in states] == list(defaults)
    assert not any(s.changed for s in states)
    unreachable = states[-1].rule
    assert (unreachable.id, unreachable.duration) == (UNREACHABLE, 30.0)

    changed = await rulestore.change(
        manager, "c", "cpu-busy", {"threshold": 50, "duration": 10}, actor="ann"
    )
    assert changed.changed and (changed.rule.threshold, changed.rule.duration) == (50, 10)
    await rulestore.change(manager, "c", "disk-full", {"enabled": False}, actor="ann")
    own = await rulestore.change(
        manager,
        "c",
        "swap",
        {"series": "swap_used_bytes", "comparison": ">", "threshold": 2**30, "roles": ["proxy"]},
        actor="ann",
    )
    assert own.default is None and own.rule.severity is Severity.WARNING
    states = await rulestore.rules(manager, "c")
    assert [s.rule.id for s in states][-1] == "swap"
    by_id = {s.rule.id: s for s in states}
    assert by_id["cpu-busy"].rule.threshold == 50 and by_id["memory-used"].rule.threshold == 90
    enabled = [r.id for r in await rulestore.enabled_rules(manager, "c")]
    assert "disk-full" not in enabled and "swap" in enabled and "cpu-busy" in enabled

    # Another cluster keeps the defaults.
    await clusters.create_cluster(manager, "other")
    assert not any(s.changed for s in await rulestore.rules(manager, "other"))

    # Setting a rule back to its default keeps nothing.
    back = await rulestore.change(manager, "c", "disk-full", {"enabled": True}, actor="ann")
    assert not back.changed
    assert await rulestore.reset(manager, "c", "cpu-busy", actor="ann") == ["cpu-busy"]
    assert await rulestore.reset(manager, "c", actor="ann") == ["swap"]
    assert not any(s.changed for s in await rulestore.rules(manager, "c"))
    assert await rulestore.reset(manager, "c", "memory-used", actor="ann") == []

    entries = await audit.entries(manager, limit=20)
    mine = [e for e in reversed(entries) if e.action.startswith("metrics.rules.")]
    assert [(e.action, e.result) for e in mine] == [
        *[("metrics.rules.change", "ok")] * 4,
        *[("metrics.rules.reset", "ok")] * 3,
    ]
    assert all(e.actor == "ann" and e.target == "c" for e in mine)
    assert mine[0].detail == {"rule": "cpu-busy", "changes": {"threshold": 50, "duration": 10}}
    assert mine[-2].detail == {"rule": "*", "reset": ["swap"]}


async def test_bad_input_and_roles_are_refused_and_audited(manager: Manager) -> None:
    await clusters.create_cluster(manager, "c")
    cases: list[tuple[str, dict[str, object], str]] = [
        ("cpu-busy", {"threshold": "high"}, "threshold"),
        ("cpu-busy", {"duration": 100_000}, "duration"),
        ("cpu-busy", {"severity": "info"}, "severity"),
        ("cpu-busy", {"labels": {"mount": "/"}}, "labels"),
        ("cpu-busy", {"colour": "red"}, "colour"),
        ("Bad", {"threshold": 1}, "invalid rule id"),
        ("new-one", {"threshold": 1}, "needs series, comparison"),
        (UNREACHABLE, {"threshold": 1}, "only its duration"),
    ]
    for rule, change, said in cases:
        with pytest.raises(InvalidInput, match=said):
            await rulestore.change(manager, "c", rule, change, actor="ann")
    with pytest.raises(Forbidden):
        await rulestore.change(
            manager, "c", "cpu-busy", {"threshold": 1}, actor="vic", as_role=UserRole.OPERATOR
        )
    with pytest.raises(Forbidden):
        await rulestore.reset(manager, "c", actor="vic", as_role=UserRole.VIEWER)
    with pytest.raises(NotFound):
        await rulestore.change(manager, "nowhere", "cpu-busy", {"threshold": 1}, actor="ann")
    with pytest.raises(NotFound):
        await rulestore.reset(manager, "c", "no-such-rule", actor="ann")
    assert not any(s.changed for s in await rulestore.rules(manager, "c"))
    entries = await audit.entries(manager, limit=20)
    results = {e.result for e in entries if e.action.startswith("metrics.rules.")}
    assert results == {"failed", "refused"}
    assert sum(e.actor == "vic" and e.result == "refused" for e in entries) == 2


async def test_rules_go_with_their_cluster(manager: Manager) -> None:
    await clusters.create_cluster(manager, "c")
    await rulestore.change(manager, "c", "cpu-busy", {"threshold": 1}, actor="ann")
    await clusters.remove_cluster(manager, "c")
    await clusters.create_cluster(manager, "c")
    assert not any(s.changed for s in await rulestore.rules(manager, "c"))
