"""The sources each role follows, where their files are, and slapd's log level."""

from __future__ import annotations

import re

import pytest

from clustermgr import topology
from clustermgr.components.logs import sources
from clustermgr.components.logs.sources import (
    Source,
    sources_for,
)
from clustermgr.facts.platform import Platform
from clustermgr.lab.gluu.oxauth import paths as lab_oxauth
from clustermgr.topology import Role
from clustermgr.validation import PATH, checked

LAB = Platform(uid=0, sudo=False, init="sysv", gluu_root=None, hostname="idp1.lab")
GLUU = Platform(uid=0, sudo=False, init="systemd", gluu_root="/opt/gluu-server", hostname="idp1")


def paths(found: tuple[Source, ...]) -> dict[str, str | None]:
    return {s.id: s.path for s in found}


def test_a_lab_identity_node_follows_the_files_its_daemons_write() -> None:
    assert paths(sources_for(Role.IDENTITY, LAB)) == {
        "syslog": "/var/log/syslog",
        "auth": "/var/log/auth.log",
        "oxauth": "/opt/gluu/jetty/oxauth/logs/oxauth.log",
        "oxauth-audit": "/opt/gluu/jetty/oxauth/logs/oxauth_audit.log",
        "web-access": "/var/log/nginx/access.log",
        "web-error": "/var/log/nginx/error.log",
        "redis": "/var/log/redis/redis-server.log",
        "stunnel-redis": "/var/log/stunnel4/clustermgr-redis.log",
        "stunnel-cache": "/var/log/stunnel4/clustermgr-cache.log",
    }


def test_a_gluu_node_has_the_journal_and_the_apps_logs_in_its_chroot() -> None:
    assert paths(sources_for(Role.IDENTITY, GLUU)) == {
        "journal": None,
        "oxauth": "/opt/gluu-server/opt/gluu/jetty/oxauth/logs/oxauth.log",
        "oxauth-audit": "/opt/gluu-server/opt/gluu/jetty/oxauth/logs/oxauth_audit.log",
        "web-access": "/opt/gluu-server/var/log/apache2/access.log",
        "web-error": "/opt/gluu-server/var/log/apache2/error.log",
        # The cache chain is installed on the host, outside the chroot.
        "redis": "/var/log/redis/redis-server.log",
        "stunnel-redis": "/var/log/stunnel4/clustermgr-redis.log",
        "stunnel-cache": "/var/log/stunnel4/clustermgr-cache.log",
    }


def test_a_versioned_chroot_prefixes_the_same_paths() -> None:
    platform = Platform(0, False, "systemd", "/opt/gluu-server-4.5.2/", "idp1")
    found = {s.id: s for s in sources_for(Role.IDENTITY, platform)}
    assert found["oxauth"].path == "/opt/gluu-server-4.5.2/opt/gluu/jetty/oxauth/logs/oxauth.log"
    assert found["oxauth"].start == sources.LOG4J_START


def test_the_proxy_follows_nginx_twemproxy_and_its_tunnels() -> None:
    assert paths(sources_for(Role.PROXY, LAB)) == {
        "syslog": "/var/log/syslog",
        "auth": "/var/log/auth.log",
        "nginx-access": "/var/log/nginx/access.log",
        "nginx-error": "/var/log/nginx/error.log",
        "nutcracker": "/var/log/nutcracker/nutcracker.log",
        "stunnel-nodes": "/var/log/stunnel4/clustermgr-nodes.log",
        "stunnel-twemproxy": "/var/log/stunnel4/clustermgr-twemproxy.log",
    }
    proxy_on_systemd = Platform(0, False, "systemd", None, "lb")
    assert sources_for(Role.PROXY, proxy_on_systemd)[0].id == "journal"
    assert "syslog" not in paths(sources_for(Role.PROXY, proxy_on_systemd))


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("platform", [LAB, GLUU])
def test_ids_are_unique_on_a_host_and_paths_are_plain(role: Role, platform: Platform) -> None:
    found = sources_for(role, platform)
    ids = [s.id for s in found]
    assert len(ids) == len(set(ids))
    for source in found:
        assert sources.SOURCE_ID.fullmatch(source.id), source.id
        if source.path is not None:
            checked(PATH, source.path)
        if source.start is not None:
            re.compile(source.start)


def test_only_the_multi_line_logs_have_a_start() -> None:
    multi = {s.id for s in sources.ALL_SOURCES if s.start is not None}
    assert multi == {"oxauth", "oxauth-audit"}
    assert re.match(sources.LOG4J_START, "2026-11-27 00:10:00,123 INFO  [main] - x")
    assert not re.match(sources.LOG4J_START, "\tat org.gluu.X.y(X.java:1)")


def test_the_follower_config_names_a_file_or_the_journal() -> None:
    assert sources.OXAUTH.follower_config() == {
        "id": "oxauth",
        "path": "/opt/gluu/jetty/oxauth/logs/oxauth.log",
        "start": sources.LOG4J_START,
    }
    assert sources.JOURNAL.follower_config() == {"id": "journal", "journal": True}


def test_the_identity_apps_log_directory_is_the_one_the_lab_writes() -> None:
    assert topology.OXAUTH_LOG_DIR == lab_oxauth.OXAUTH_LOG_DIR
    assert sources.OXAUTH.path == f"{lab_oxauth.OXAUTH_LOG_DIR}/{lab_oxauth.OXAUTH_LOG}"
    assert sources.OXAUTH_AUDIT.path == f"{lab_oxauth.OXAUTH_LOG_DIR}/{lab_oxauth.OXAUTH_AUDIT_LOG}"
