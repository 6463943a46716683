"""The exporters' plan (pure): what each role runs, bound to 127.0.0.1; the Redis
password file; slapd's cn=monitor from its configuration; the deploy stage."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from clustermgr.components.contract import deploy_stages
from clustermgr.components.metrics import monitordb
from clustermgr.components.metrics.exporters import (
    EXPORTERS,
    NGINX,
    NODE,
    NODE_FS_TYPES_EXCLUDE,
    REDIS,
    for_role,
    password_secrets,
    redis_password_file,
)
from clustermgr.components.metrics.plan import HostFacts, Member, plan_metrics
from clustermgr.components.registry import COMPONENTS
from clustermgr.facts.ldap import Database, SlapdConfig
from clustermgr.facts.ldif import PEERCRED_ROOT
from clustermgr.redact import Secret
from clustermgr.topology import (
    NGINX_STATUS,
    NGINX_STATUS_PATH,
    PORTS_BY_ROLE,
    REDIS_EXPORTER_PASSWORD_FILE,
    Role,
)

PASSWORD = Secret("pw-of-redis", label="redis")
MEMBERS = (
    Member("idp1.example.org", Role.IDENTITY),
    Member("idp2.example.org", Role.IDENTITY),
    Member("proxy.example.org", Role.PROXY),
)
SLAPD = SlapdConfig(
    databases=(
        Database("olcDatabase={-1}frontend,cn=config", -1, None),
        Database("olcDatabase={0}config,cn=config", 0, None),
        Database("olcDatabase={1}mdb,cn=config", 1, "o=gluu"),
    ),
    module_dn="cn=module{0},cn=config",
    modules=frozenset({"back_mdb", "syncprov"}),
)
STATIC = frozenset({"config", "ldif", "monitor"})
FACTS = {
    "idp1.example.org": HostFacts("debian", "sysv", SLAPD, STATIC),
    "idp2.example.org": HostFacts("debian", "systemd", SLAPD, STATIC),
    "proxy.example.org": HostFacts("debian", "sysv"),
}
#: ``slapd -VVV`` of Debian 12's slapd (it prints to stderr; the fact folds it in).
SLAPD_VVV = """\
@(#) $OpenLDAP: slapd 2.5.13+dfsg-5 (Feb  8 2023 01:56:12) $
\tDebian OpenLDAP Maintainers <pkg-openldap-devel@lists.alioth.debian.org>

Included static backends:
    config
    ldif
    monitor
"""


def test_each_role_runs_its_exporters_each_on_127_0_0_1_at_its_own_port() -> None:
    assert for_role(Role.IDENTITY) == (NODE, REDIS)
    assert for_role(Role.PROXY) == (NODE, NGINX)
    assert len({e.port.port for e in EXPORTERS}) == len(EXPORTERS)
    assert [e.port.port for e in EXPORTERS] == [9100, 9121, 9113]
    for exporter in EXPORTERS:
        args = exporter.defaults().splitlines()[-1]
        assert args.startswith("ARGS='") and args.endswith("'")
        assert f"{exporter.listen_option}=127.0.0.1:{exporter.port.port}" in args.split("'")[1]
        assert exporter.url == f"http://127.0.0.1:{exporter.port.port}/metrics"
        for role in exporter.roles:
            assert exporter.port in PORTS_BY_ROLE[role], "preflight checks the port is free"


def args_as_the_init_script_passes_them(defaults: str, folder: Path) -> list[str]:
    """The words the package's init script passes: the file sourced by sh, then ``$ARGS``
    unquoted (split, globbed in a folder holding a file)."""
    (folder / "defaults").write_text(defaults)
    (folder / "cgroup2").touch()
    script = '. ./defaults; for word in $ARGS; do printf "%s\\n" "$word"; done'
    ran = subprocess.run(["sh", "-c", script], cwd=folder, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    return ran.stdout.splitlines()


def test_the_node_exporter_reports_the_space_of_an_overlay_root(tmp_path: Path) -> None:
    assert "overlay" not in NODE_FS_TYPES_EXCLUDE
    assert re.fullmatch(NODE_FS_TYPES_EXCLUDE, "ext4") is None
    assert all(re.fullmatch(NODE_FS_TYPES_EXCLUDE, t) for t in ("proc", "cgroup2", "sysfs"))
    assert args_as_the_init_script_passes_them(NODE.defaults(), tmp_path) == [
        "--web.listen-address=127.0.0.1:9100",
        f"--collector.filesystem.fs-types-exclude={NODE_FS_TYPES_EXCLUDE}",
    ]


def test_the_exclude_list_is_the_node_exporters_default_without_overlay() -> None:
    program = shutil.which("prometheus-node-exporter")
    if program is None:
        pytest.skip("prometheus-node-exporter is not installed")
    shown = subprocess.run([program, "--help"], capture_output=True, text=True)
    found = re.search(
        r'--collector\.filesystem\.fs-types-exclude="([^"]+)"', shown.stdout + shown.stderr
    )
    assert found, shown.stderr
    assert found[1].replace("|overlay|", "|") == NODE_FS_TYPES_EXCLUDE


def test_an_option_the_defaults_file_cannot_quote_is_refused() -> None:
    odd = dataclasses.replace(NODE, options=("--collector.textfile.directory=/it's",))
    with pytest.raises(ValueError, match="quote or a blank"):
        odd.defaults()


def test_the_nginx_exporter_reads_the_stub_status_the_load_balancer_serves() -> None:
    uri = f"-nginx.scrape-uri=http://127.0.0.1:{NGINX_STATUS.port}{NGINX_STATUS_PATH}"
    assert uri in NGINX.defaults()


def test_the_redis_exporter_reads_its_password_from_a_file_not_its_command_line() -> None:
    assert PASSWORD.reveal() not in REDIS.defaults()
    assert f"-redis.password-file={REDIS_EXPORTER_PASSWORD_FILE}" in REDIS.defaults()
    assert json.loads(redis_password_file(PASSWORD)) == {"redis://127.0.0.1:6379": "pw-of-redis"}


def test_a_password_json_escapes_is_masked_as_the_file_holds_it_too() -> None:
    assert password_secrets(PASSWORD) == (PASSWORD,)
    odd = Secret('a"b\\c', label="redis")
    shown = [s.reveal() for s in password_secrets(odd)]
    assert shown == ['a"b\\c', 'a\\"b\\\\c']
    assert shown[1] in redis_password_file(odd)


def steps_of(host: str, facts: dict[str, HostFacts] | None = None) -> list[str]:
    plan = plan_metrics("c1", MEMBERS, facts or FACTS, PASSWORD)
    return [s.title for s in plan.for_host(host)]


def test_every_member_gets_its_exporters_and_identity_nodes_cn_monitor() -> None:
    assert steps_of("idp1.example.org") == [
        "install the exporters",
        "run prometheus-node-exporter",
        "run prometheus-redis-exporter",
        "enable slapd's cn=monitor",
    ]
    assert steps_of("proxy.example.org") == [
        "install the exporters",
        "run prometheus-node-exporter",
        "run prometheus-nginx-exporter",
    ]


def test_a_member_without_facts_is_left_to_the_caller() -> None:
    facts = {h: f for h, f in FACTS.items() if h != "idp2.example.org"}
    plan = plan_metrics("c1", MEMBERS, facts, PASSWORD)
    assert "idp2.example.org" not in plan.hosts and len(plan.hosts) == 2


def test_the_install_keeps_package_scripts_from_starting_the_exporters() -> None:
    plan = plan_metrics("c1", MEMBERS, FACTS, PASSWORD)
    install = plan.for_host("proxy.example.org")[0]
    (command,) = install.commands
    text = " ".join(str(p) for p in command.parts)
    assert "policy-rc.d" in text and "exit 101" in text
    assert "prometheus-node-exporter" in text and "prometheus-nginx-exporter" in text
    assert "prometheus-redis-exporter" not in text
    assert install.check is not None
    rhel = {**FACTS, "proxy.example.org": HostFacts("rhel", "systemd")}
    (dnf,) = plan_metrics("c1", MEMBERS, rhel, PASSWORD).for_host("proxy.example.org")[0].commands
    assert dnf.parts[:2] == ("dnf", "install"), "no policy-rc.d where there is no dpkg"


def test_the_redis_exporter_step_writes_a_sensitive_file_only_its_group_reads() -> None:
    plan = plan_metrics("c1", MEMBERS, FACTS, PASSWORD)
    step = next(s for s in plan.for_host("idp1.example.org") if s.title.endswith("redis-exporter"))
    defaults, password = step.files
    assert defaults.path == "/etc/default/prometheus-redis-exporter"
    assert password.path == REDIS_EXPORTER_PASSWORD_FILE
    assert (password.mode, password.owner, password.sensitive) == (0o640, "root:prometheus", True)
    assert password.secrets == (PASSWORD,)
    assert step.check is not None and step.verify is not None and step.rollback
    assert "stop" in str(step.rollback[0].parts), "a failing exporter is stopped, not restarted"


def test_exporter_steps_drive_the_init_system_the_host_has() -> None:
    plan = plan_metrics("c1", MEMBERS, FACTS, PASSWORD)
    sysv, systemd = (plan.for_host(f"idp{n}.example.org")[1] for n in (1, 2))
    assert "update-rc.d" in str(sysv.commands[0].parts)
    assert "systemctl" in str(systemd.commands[0].parts)


def test_static_backends_are_read_from_slapd_vvv() -> None:
    assert monitordb.parse_static_backends(SLAPD_VVV) == frozenset({"config", "ldif", "monitor"})
    assert monitordb.parse_static_backends("slapd: not found\n") == frozenset()


def test_a_built_in_monitor_backend_needs_only_the_database() -> None:
    ldif = monitordb.changes(SLAPD, STATIC)
    assert "olcModuleLoad" not in ldif
    assert ldif.startswith("dn: olcDatabase=monitor,cn=config\nchangetype: add\n")
    assert f'olcAccess: to * by dn.exact="{PEERCRED_ROOT}" read by * none' in ldif


def test_a_monitor_module_is_loaded_first_where_slapd_has_no_built_in_one() -> None:
    ldif = monitordb.changes(SLAPD, frozenset({"config"}))
    module, database = ldif.split("\n\n")
    assert module == (
        "dn: cn=module{0},cn=config\nchangetype: modify\n"
        "add: olcModuleLoad\nolcModuleLoad: back_monitor"
    )
    assert database.startswith("dn: olcDatabase=monitor,cn=config\n")
    bare = SlapdConfig(databases=SLAPD.databases)
    assert monitordb.changes(bare, frozenset()).startswith(
        "dn: cn=module{0},cn=config\nchangetype: add\nobjectClass: olcModuleList\n"
    )


def test_an_existing_monitor_database_gets_only_its_access_set() -> None:
    dn = "olcDatabase={2}Monitor,cn=config"
    open_to_all = SlapdConfig(databases=(*SLAPD.databases, Database(dn, 2, None)))
    assert monitordb.changes(open_to_all, STATIC) == (
        f"dn: {dn}\nchangetype: modify\nreplace: olcAccess\nolcAccess: {monitordb.ACCESS}\n"
    )
    # As slapd keeps it: without the quotes, spaced its own way.
    stored = f"to *  by dn.exact={PEERCRED_ROOT} read  by * none"
    done = SlapdConfig(databases=(*SLAPD.databases, Database(dn, 2, None, access=(stored,))))
    assert monitordb.changes(done, STATIC) == ""


def test_the_cn_monitor_step_changes_nothing_it_need_not() -> None:
    dn = "olcDatabase={2}monitor,cn=config"
    done = SlapdConfig(databases=(Database(dn, 2, None, access=(monitordb.ACCESS,)),))
    facts = {**FACTS, "idp1.example.org": HostFacts("debian", "sysv", done, STATIC)}
    plan = plan_metrics("c1", MEMBERS, facts, PASSWORD)
    step = plan.for_host("idp1.example.org")[-1]
    assert step.title == "enable slapd's cn=monitor" and step.commands == ()
    assert step.check is not None and step.verify is not None


def test_monitoring_comes_after_what_its_exporters_read() -> None:
    stages = [s.name for s in deploy_stages(COMPONENTS)]
    metrics = deploy_stages(COMPONENTS)[stages.index("metrics")]
    assert metrics.needs == ("ldap", "cache", "lb")
    assert all(stages.index(need) < stages.index("metrics") for need in metrics.needs)


def test_an_alert_about_a_server_does_not_mark_the_monitoring_stage_failing() -> None:
    stages = {s.name: s for s in deploy_stages(COMPONENTS)}
    for key in ("host-unreachable:idp1.example.org", "disk-full:idp1.example.org:/"):
        assert not stages["metrics"].breaks_setup(key)
        assert stages["ldap"].breaks_setup(key)  # every alert of the others counts
