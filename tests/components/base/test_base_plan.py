"""The base preparation planner: facts in, steps out, no SSH."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydantic import ValidationError

from clustermgr.components.base.plan import BaseFacts, plan_base
from clustermgr.errors import InvalidInput
from clustermgr.inventory.schemas import ClusterSettings, ClusterView, NodeState, ServerView
from clustermgr.topology import Role

DEBIAN_ALL = {p: "1" for p in ("ca-certificates", "iproute2", "openssl", "procps", "python3")}


def cluster(hosts_file: str = "/etc/hosts") -> ClusterView:
    servers = (
        ServerView(1, "lab", "idp1.example.org", "10.0.0.1", 22, "root", Role.IDENTITY, None),
        ServerView(2, "lab", "idp2.example.org", "10.0.0.2", 22, "root", Role.IDENTITY, None),
    )
    return ClusterView(1, "lab", ClusterSettings(hosts_file=hosts_file), servers)


def test_each_reachable_member_gets_packages_and_hosts_steps() -> None:
    facts = {
        "idp1.example.org": BaseFacts("debian", {"openssl": "3"}, "127.0.0.1 localhost\n"),
        "idp2.example.org": BaseFacts("debian", DEBIAN_ALL, ""),
    }
    plan = plan_base(cluster("/tmp/hosts"), facts)
    assert [(s.host, s.title) for s in plan.steps] == [
        ("idp1.example.org", "install base packages"),
        ("idp1.example.org", "write /tmp/hosts"),
        ("idp2.example.org", "install base packages"),
        ("idp2.example.org", "write /tmp/hosts"),
    ]
    install = plan.steps[0]
    assert install.reason == "missing: ca-certificates, iproute2, procps, python3"
    assert str(install.commands[0]).endswith("sh ca-certificates iproute2 procps python3")
    assert install.check is not None and "dpkg-query" in str(install.check)
    hosts = plan.steps[1].files[0]
    assert hosts.path == "/tmp/hosts"
    assert hosts.content.startswith(b"127.0.0.1 localhost\n# BEGIN clustermgr cluster lab\n")


def test_a_leaving_node_gets_no_step_and_leaves_the_others_hosts_files() -> None:
    leaving = ServerView(
        3,
        "lab",
        "idp3.example.org",
        "10.0.0.3",
        22,
        "root",
        Role.IDENTITY,
        None,
        state=NodeState.LEAVING,
    )
    view = cluster()
    view = replace(view, servers=(*view.servers, leaving))
    facts = {
        h: BaseFacts("debian", DEBIAN_ALL, "") for h in ("idp1.example.org", "idp3.example.org")
    }
    plan = plan_base(view, facts)
    assert plan.hosts == ["idp1.example.org"]
    written = plan.steps[-1].files[0].content.decode()
    assert "10.0.0.2\tidp2.example.org" in written and "idp3" not in written


def test_rhel_members_use_rpm_and_dnf() -> None:
    facts = {"idp1.example.org": BaseFacts("rhel", {}, "")}
    install = plan_base(cluster(), facts).steps[0]
    assert str(install.commands[0]).startswith("dnf install -y -q ca-certificates iproute")
    assert str(install.check).startswith("rpm -q --quiet")


def test_member_without_facts_gets_no_steps() -> None:
    plan = plan_base(cluster(), {"idp2.example.org": BaseFacts("debian", DEBIAN_ALL, "")})
    assert plan.hosts == ["idp2.example.org"]


def test_conflicts_become_warnings() -> None:
    facts = {"idp1.example.org": BaseFacts("debian", DEBIAN_ALL, "127.0.1.1 idp1.example.org\n")}
    step = plan_base(cluster(), facts).steps[1]
    assert step.warnings == (
        "/etc/hosts also has `127.0.1.1 idp1.example.org`, which names a member differently",
    )


@pytest.mark.parametrize(
    "path", ["/etc/hosts; rm -rf /", "/etc/../root/.ssh/authorized_keys", "etc/hosts"]
)
def test_a_hosts_file_path_off_the_allow_list_is_refused(path: str) -> None:
    with pytest.raises(InvalidInput, match="invalid cluster settings: hosts_file"):
        ClusterSettings.parse({"hosts_file": path})
    with pytest.raises(ValidationError):
        cluster(path)
    bypassed = replace(cluster(), settings=ClusterSettings.model_construct(hosts_file=path))
    facts = {"idp1.example.org": BaseFacts("debian", DEBIAN_ALL, "")}
    with pytest.raises(InvalidInput, match="refusing to write to a server"):
        plan_base(bypassed, facts)
