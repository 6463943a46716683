"""The audit trail: newest first, paging, filtering, and no secret ever stored."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from clustermgr.audit import service as audit
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput
from clustermgr.redact import MASK, Secret


async def test_entries_newest_first_with_paging_and_actor(manager: Manager) -> None:
    for n in range(7):
        await audit.record(
            manager, actor="alice" if n % 2 else "bob", action="server.add", target=f"idp{n}"
        )
    entries = await audit.entries(manager)
    assert [e.target for e in entries] == [f"idp{n}" for n in reversed(range(7))]
    assert entries[0].result == "ok" and entries[0].detail == {}
    assert entries[0].at.tzinfo is not None

    first = await audit.entries(manager, limit=3)
    second = await audit.entries(manager, limit=3, before_id=first[-1].id)
    third = await audit.entries(manager, limit=3, before_id=second[-1].id)
    assert [e.target for e in first + second + third] == [e.target for e in entries]
    assert await audit.entries(manager, limit=3, before_id=third[-1].id) == []

    alice = await audit.entries(manager, actor="alice")
    assert [e.target for e in alice] == ["idp5", "idp3", "idp1"]
    with pytest.raises(InvalidInput):
        await audit.entries(manager, limit=0)


async def test_detail_is_redacted_everywhere(manager: Manager) -> None:
    secret = Secret.held("hunter2-audit-secret", label="password")
    await audit.record(
        manager,
        actor="alice",
        action="server.add",
        target="idp1",
        result="failed",
        detail={
            "password": secret,
            "stderr": f"sudo: password {secret.reveal()} rejected",
            "nested": {"list": [secret.reveal(), 3, None, True]},
            "when": datetime(2024, 1, 2, tzinfo=UTC),
        },
    )
    (entry,) = await audit.entries(manager)
    assert entry.detail == {
        "password": MASK,
        "stderr": f"sudo: password {MASK} rejected",
        "nested": {"list": [MASK, 3, None, True]},
        "when": "2024-01-02T00:00:00+00:00",
    }
    assert entry.as_dict()["result"] == "failed"
    async with manager.db.engine.connect() as conn:
        raw = repr((await conn.execute(text("SELECT * FROM audit"))).all())
    assert secret.reveal() not in raw


async def test_long_values_are_cut_to_the_columns(manager: Manager) -> None:
    # Values no other test could have registered as a secret (redaction is process-wide).
    actor, action, target = (secrets.token_hex(n) for n in (50, 50, 150))
    await audit.record(manager, actor=actor, action=action, target=target)
    (entry,) = await audit.entries(manager)
    assert (len(entry.actor), len(entry.action), len(entry.target)) == (64, 64, 255)
