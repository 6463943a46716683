"""The logs stage's plan (pure): the follower on every server, slapd's log level on
identity nodes, the allowed levels, and its place among the deploy's stages."""

from __future__ import annotations

import pytest

from clustermgr.components.contract import deploy_stages
from clustermgr.components.logs import slapdlog
from clustermgr.components.logs.plan import HostFacts, Member, plan_logs
from clustermgr.components.logs.program import FOLLOWER_MODE, FOLLOWER_PATH, follower_source
from clustermgr.components.logs.settings import (
    DEFAULT_SLAPD_LOG_LEVEL,
    SLAPD_LOG_LEVEL,
    checked_slapd_log_level,
    slapd_log_level,
)
from clustermgr.components.registry import COMPONENTS
from clustermgr.errors import InvalidInput
from clustermgr.topology import Role

MEMBERS = [Member("idp1", Role.IDENTITY), Member("idp2", Role.IDENTITY), Member("lb", Role.PROXY)]
FACTS = {
    "idp1": HostFacts(slapd_log_level=("none",)),
    "idp2": HostFacts(slapd_log_level=()),
    "lb": HostFacts(),
}


def test_every_server_gets_the_follower_and_identity_nodes_the_log_level() -> None:
    plan = plan_logs("prod", MEMBERS, FACTS, follower=b"print()\n", slapd_log_level="stats")
    assert [(s.host, s.title) for s in plan.steps] == [
        ("idp1", "install the log follower"),
        ("idp1", "set slapd's log level"),
        ("idp2", "install the log follower"),
        ("idp2", "set slapd's log level"),
        ("lb", "install the log follower"),
    ]
    installs = [s for s in plan.steps if s.files]
    assert {(f.path, f.content, f.mode) for s in installs for f in s.files} == {
        (FOLLOWER_PATH, b"print()\n", FOLLOWER_MODE)
    }
    assert FOLLOWER_MODE == 0o644


def test_the_log_level_step_shows_the_change_and_checks_it() -> None:
    plan = plan_logs("prod", MEMBERS, FACTS, follower=b"", slapd_log_level="sync")
    idp1, idp2 = (s for s in plan.steps if s.title == "set slapd's log level")
    assert [(e.dn, e.before, e.after) for e in idp1.entries] == [
        ("cn=config", (("olcLogLevel", "none"),), (("olcLogLevel", "sync"),))
    ]
    assert idp2.entries[0].before == ()
    [command] = idp1.commands
    assert command.stdin_bytes() == slapdlog.set_log_level("sync").encode()
    assert idp1.check == idp1.verify == slapdlog.has_log_level("sync")
    assert "sync" in idp1.unchanged_reason


def test_a_member_without_facts_is_left_out() -> None:
    plan = plan_logs("prod", MEMBERS, {"lb": HostFacts()}, follower=b"", slapd_log_level="stats")
    assert plan.hosts == ["lb"]


def test_the_fact_reads_every_value_of_cn_config() -> None:
    ldif = "dn: cn=config\nolcLogLevel: stats\nolcLogLevel: sync\n\n"
    assert slapdlog.parse_log_level(ldif) == ("stats", "sync")
    assert slapdlog.parse_log_level("dn: cn=config\n\n") == ()


def test_the_default_level_is_stats_and_a_cluster_may_ask_for_another() -> None:
    assert slapd_log_level({}) == DEFAULT_SLAPD_LOG_LEVEL == "stats"
    assert slapd_log_level({"slapd_log_level": "stats2"}) == "stats2"
    assert SLAPD_LOG_LEVEL.check(SLAPD_LOG_LEVEL.example) == DEFAULT_SLAPD_LOG_LEVEL
    with pytest.raises(InvalidInput):
        slapd_log_level({"slapd_log_level": "-1"})


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("stats", "stats"),
        ("sync  STATS", "stats sync"),
        ("acl stats acl", "stats ACL"),
        ("none", "none"),
    ],
)
def test_slapd_log_levels_are_canonical(given: str, canonical: str) -> None:
    assert checked_slapd_log_level(given) == canonical


@pytest.mark.parametrize(
    "given",
    ["", "   ", "stats\nolcRootPW: x", "stats;", "256", "none stats", "verbose", 3, None],
)
def test_other_slapd_log_levels_are_refused(given: object) -> None:
    with pytest.raises(InvalidInput, match="not a slapd log level") as caught:
        checked_slapd_log_level(given)
    assert "stats" in (caught.value.hint or "")


def test_a_level_of_several_names_is_one_value_per_name() -> None:
    assert slapdlog.set_log_level("stats sync").endswith(
        "replace: olcLogLevel\nolcLogLevel: stats\nolcLogLevel: sync\n"
    )


def test_the_follower_shipped_is_the_package_s_program() -> None:
    source = follower_source()
    assert b"def main()" in source
    compile(source, FOLLOWER_PATH, "exec")


def test_logs_is_the_last_stage_after_the_directory_and_the_load_balancer() -> None:
    stages = deploy_stages(COMPONENTS)
    assert stages[-1].name == "logs"
    assert set(stages[-1].needs or ()) == {"ldap", "lb"}
