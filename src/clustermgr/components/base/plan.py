"""Plan the base preparation of a cluster's members (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from clustermgr.components.base import packages
from clustermgr.components.base.hosts import render_hosts
from clustermgr.facts.packages import missing
from clustermgr.inventory.schemas import ClusterView
from clustermgr.plan.model import FileChange, Plan, Step
from clustermgr.validation import PATH, checked


@dataclass(frozen=True)
class BaseFacts:
    """What the planner needs to know about one member."""

    family: str
    installed: Mapping[str, str]
    hosts_file: str


def plan_base(cluster: ClusterView, facts: Mapping[str, BaseFacts]) -> Plan:
    steps: list[Step] = []
    hosts_path = checked(PATH, cluster.settings.hosts_file)
    for server in cluster.nodes():
        fact = facts.get(server.hostname)
        if fact is None:
            continue  # unreachable while gathering facts: reported by the caller
        wanted = packages.REQUIRED.get(fact.family, packages.REQUIRED["debian"])
        absent = missing(fact.installed, wanted)
        steps.append(
            Step(
                host=server.hostname,
                title="install base packages",
                reason=f"missing: {', '.join(absent)}" if absent else "required by clustermgr",
                commands=(packages.install(fact.family, absent or wanted),),
                check=packages.check_installed(fact.family, wanted),
                unchanged_reason=f"already installed: {', '.join(wanted)}",
            )
        )
        hosts = render_hosts(fact.hosts_file, cluster.name, cluster.nodes())
        steps.append(
            Step(
                host=server.hostname,
                title=f"write {hosts_path}",
                reason="every member resolves every other member by its hostname",
                files=(FileChange(hosts_path, hosts.content.encode(), mode=0o644),),
                warnings=tuple(
                    f"{hosts_path} also has `{line}`, which names a member differently"
                    for line in hosts.conflicts
                ),
            )
        )
    return Plan(f"base preparation of cluster {cluster.name}", tuple(steps))
