"""A cluster's threshold rules: the defaults, and what the cluster changed of them.

:func:`rules` is what the watcher evaluates and every front end lists;
:func:`change` and :func:`reset` are the one way every front end changes them:
validated (:class:`~clustermgr.components.metrics.rules.RuleChange`), saved and
audited under the actor (``metrics.rules.change``, ``metrics.rules.reset``).
Changing them is for admins (``as_role``: the caller's role; the CLI acts as
admin).  A changed default is stored whole; resetting deletes the row, and the
default applies again (a rule of the cluster's own goes).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from clustermgr.audit import service as audit
from clustermgr.auth.roles import UserRole, require
from clustermgr.components.metrics.rulemodels import MetricRule
from clustermgr.components.metrics.rules import (
    RULE_ID,
    Rule,
    RuleChange,
    default_rules,
    parse_change,
    parse_rule,
)
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import AlreadyExists, InvalidInput, NotFound
from clustermgr.inventory.models import Cluster

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuleState:
    """A rule of a cluster, and its default (None: the cluster's own rule)."""

    rule: Rule
    default: Rule | None

    @property
    def changed(self) -> bool:
        return self.rule != self.default

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.rule.model_dump(mode="json"),
            "describe": self.rule.describe(),
            "default": None if self.default is None else self.default.model_dump(mode="json"),
            "changed": self.changed,
        }


def defaults(manager: Manager) -> dict[str, Rule]:
    return {r.id: r for r in default_rules(manager.settings.metrics_unreachable_after)}


async def rules(manager: Manager, cluster: str) -> list[RuleState]:
    """The cluster's rules: the defaults in their order (changed ones as changed), then its
    own by id.  One query; an unknown cluster is NotFound."""
    async with manager.store() as store:
        found = await store.cluster(cluster)
        rows = await store.session.scalars(
            select(MetricRule).where(MetricRule.cluster_id == found.id).order_by(MetricRule.rule)
        )
        stored = {row.rule: _rule(cluster, row) for row in rows}
    return merged(defaults(manager), stored)


async def enabled_rules(manager: Manager, cluster: str) -> list[Rule]:
    """What the watcher evaluates (the defaults when the cluster is gone)."""
    async with manager.db.session() as session:
        rows = await session.scalars(
            select(MetricRule).join(Cluster).where(Cluster.name == cluster)
        )
        stored = {row.rule: _rule(cluster, row) for row in rows}
    return [s.rule for s in merged(defaults(manager), stored) if s.rule.enabled]


def merged(base: Mapping[str, Rule], stored: Mapping[str, Rule | None]) -> list[RuleState]:
    out = [RuleState(stored.get(i) or r, r) for i, r in base.items()]
    own = sorted((i, r) for i, r in stored.items() if i not in base and r is not None)
    return out + [RuleState(r, None) for _, r in own]


def _rule(cluster: str, row: MetricRule) -> Rule | None:
    """A stored rule, or None (with a warning) when it no longer validates."""
    try:
        return parse_rule({**row.definition, "id": row.rule})
    except InvalidInput as exc:
        log.warning("cluster %s: stored rule %s is ignored: %s", cluster, row.rule, exc.message)
        return None


async def change(
    manager: Manager,
    cluster: str,
    rule_id: str,
    update: RuleChange | Mapping[str, Any],
    *,
    actor: str,
    as_role: UserRole = UserRole.ADMIN,
) -> RuleState:
    """Change rule ``rule_id`` of ``cluster`` (or add it: a new id needs its series,
    comparison and threshold).  One audit entry, a refused change too; InvalidInput
    names the field that is wrong."""
    raw = update.model_dump(exclude_unset=True) if isinstance(update, BaseModel) else update
    detail = {"rule": rule_id, "changes": dict(raw)}
    async with audit.audited(
        manager, actor=actor, action="metrics.rules.change", target=cluster, detail=detail
    ):
        require(as_role, UserRole.ADMIN, "changing alert rules")
        _check_id(rule_id)
        parsed = parse_change(raw, rule_id)
        base = defaults(manager)
        async with manager.store() as store:
            found = await store.cluster(cluster)
            row = (
                await store.session.scalars(
                    select(MetricRule).where(
                        MetricRule.cluster_id == found.id, MetricRule.rule == rule_id
                    )
                )
            ).one_or_none()
            current = (_rule(cluster, row) if row is not None else None) or base.get(rule_id)
            rule = parsed.applied_to(current, rule_id)
            definition = rule.model_dump(mode="json", exclude={"id"})
            if rule == base.get(rule_id):
                if row is not None:
                    await store.session.delete(row)  # the default again: nothing to keep
            elif row is None:
                store.session.add(
                    MetricRule(
                        cluster_id=found.id,
                        rule=rule_id,
                        definition=definition,
                        changed_at=utcnow(),
                        changed_by=actor[:64],
                    )
                )
            else:
                row.definition, row.changed_at, row.changed_by = definition, utcnow(), actor[:64]
            try:
                await store.session.flush()
            except IntegrityError:
                raise AlreadyExists(
                    f"rule {rule_id!r} of {cluster!r} was changed at the same time",
                    hint="list the rules and try again",
                ) from None
    return RuleState(rule, base.get(rule_id))


async def reset(
    manager: Manager,
    cluster: str,
    rule_id: str | None = None,
    *,
    actor: str,
    as_role: UserRole = UserRole.ADMIN,
) -> list[str]:
    """Back to the defaults: rule ``rule_id``, or every rule (None).  The ids reset (a rule
    of the cluster's own goes); one audit entry."""
    detail = {"rule": rule_id or "*"}
    async with audit.audited(
        manager, actor=actor, action="metrics.rules.reset", target=cluster, detail=detail
    ) as outcome:
        require(as_role, UserRole.ADMIN, "resetting alert rules")
        if rule_id is not None:
            _check_id(rule_id)
        async with manager.store() as store:
            found = await store.cluster(cluster)
            query = select(MetricRule.rule).where(MetricRule.cluster_id == found.id)
            if rule_id is not None:
                query = query.where(MetricRule.rule == rule_id)
            ids = sorted(await store.session.scalars(query))
            if rule_id is not None and not ids and rule_id not in defaults(manager):
                raise NotFound(f"no rule {rule_id!r} in cluster {cluster!r}")
            await store.session.execute(
                delete(MetricRule).where(
                    MetricRule.cluster_id == found.id, MetricRule.rule.in_(ids)
                )
            )
        outcome.detail["reset"] = ids
    return ids


def _check_id(rule_id: str) -> None:
    if not RULE_ID.match(rule_id):
        raise InvalidInput(
            f"invalid rule id {rule_id!r}",
            hint="letters a-z, digits and '-', 1 to 40, starting with a letter",
        )
