"""/api/v1/clusters/{name}/metrics/rules: the cluster's threshold alert rules.

``GET`` lists them (defaults and changes); ``PUT .../rules/{rule}`` changes one (or adds
a rule of the cluster's own), ``DELETE .../rules/{rule}`` resets one to its default,
``DELETE .../rules`` every one.  Changes are for admins and audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from clustermgr.components.metrics import rulestore
from clustermgr.components.metrics.measures import series_names
from clustermgr.components.metrics.rules import RuleChange
from clustermgr.components.metrics.rulestore import RuleState
from clustermgr.web.api.models import ClusterName
from clustermgr.web.api.responses import errors
from clustermgr.web.deps import ApiUser, WebDep

router = APIRouter(prefix="/clusters", tags=["metrics"])

RuleId = Annotated[str, Path(max_length=40, description="The rule's id, e.g. cpu-busy.")]


class RuleFields(BaseModel):
    id: str
    series: str = Field(description="A measure or catalog series: " + ", ".join(series_names()))
    labels: dict[str, str] = Field(description="Only the instances with these labels.")
    comparison: str = Field(description="'>' or '<'.")
    threshold: float
    duration: float = Field(description="Seconds the value stays beyond the threshold first.")
    severity: str = Field(description="warning or critical.")
    enabled: bool
    roles: list[str] = Field(description="Server roles watched ([]: all that have the series).")


class RulePublic(RuleFields):
    describe: str = Field(description="The rule in words.")
    default: RuleFields | None = Field(description="Its default (null: the cluster's own rule).")
    changed: bool = Field(description="Whether it differs from its default.")

    @classmethod
    def of(cls, state: RuleState) -> RulePublic:
        return cls.model_validate(state.as_dict())


class RulesPublic(BaseModel):
    cluster: str
    rules: list[RulePublic]


class ResetPublic(BaseModel):
    reset: list[str] = Field(description="The ids of the rules reset.")


@router.get("/{name}/metrics/rules", responses=errors(404, 422))
async def list_rules(name: ClusterName, web: WebDep) -> RulesPublic:
    """The cluster's threshold rules: every default (as changed, if so), then its own."""
    states = await rulestore.rules(web.manager, name)
    return RulesPublic(cluster=name, rules=[RulePublic.of(s) for s in states])


@router.put("/{name}/metrics/rules/{rule}", responses=errors(400, 403, 404, 422))
async def change_rule(
    name: ClusterName, rule: RuleId, body: RuleChange, web: WebDep, user: ApiUser
) -> RulePublic:
    """Change the fields given (threshold, duration, severity, enabled...); a new id adds
    a rule, which needs its series, comparison and threshold.  Admins only."""
    state = await rulestore.change(
        web.manager, name, rule, body, actor=user.username, as_role=user.role
    )
    return RulePublic.of(state)


@router.delete("/{name}/metrics/rules/{rule}", responses=errors(400, 403, 404, 422))
async def reset_rule(name: ClusterName, rule: RuleId, web: WebDep, user: ApiUser) -> ResetPublic:
    """Back to its default (a rule of the cluster's own is removed).  Admins only."""
    ids = await rulestore.reset(web.manager, name, rule, actor=user.username, as_role=user.role)
    return ResetPublic(reset=ids)


@router.delete("/{name}/metrics/rules", responses=errors(403, 404, 422))
async def reset_rules(name: ClusterName, web: WebDep, user: ApiUser) -> ResetPublic:
    """Every rule back to the defaults.  Admins only."""
    ids = await rulestore.reset(web.manager, name, actor=user.username, as_role=user.role)
    return ResetPublic(reset=ids)
