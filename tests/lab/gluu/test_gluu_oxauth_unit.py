"""The oxAuth stand-in's parts that need no daemon: parsers, RESP, cache switching, routing."""

from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from clustermgr.lab.gluu import directory, oxauth
from gluu_lab import free_port


def test_properties_take_the_first_separator() -> None:
    text = """
# comment
! also a comment
bindDN: cn=directory manager,o=gluu
connection.max-wait-time-millis=20000
servers:  host1:1636, host2:1636
"""
    assert oxauth.parse_properties(text) == {
        "bindDN": "cn=directory manager,o=gluu",
        "connection.max-wait-time-millis": "20000",
        "servers": "host1:1636, host2:1636",
    }


def test_ldap_settings_need_the_three_keys() -> None:
    with pytest.raises(ValueError, match="bindPassword, servers"):
        oxauth.LdapSettings.from_properties({"bindDN": "cn=x"})


def test_bind_password_is_not_in_the_settings_repr() -> None:
    settings = oxauth.LdapSettings(("ldap://h",), "cn=x", "hidden-pw")
    assert "hidden-pw" not in repr(settings)


@pytest.mark.parametrize(
    "value",
    ["plain", " leading space", ":colon", "<angle", "trailing ", "ünïcode", "two\nlines", ""],
)
def test_ldif_values_round_trip(value: str) -> None:
    line = oxauth.ldif_attr("description", value)
    [entry] = oxauth.parse_ldif(f"dn: o=gluu\n{line}\n")
    assert entry.first("description") == value


def test_ldif_parser_unfolds_lines_and_skips_comments() -> None:
    text = '# search result\ndn: uuid=1,ou=cache,o=gluu\ndat: {"a":\n  1}\nuuid: 1\n\ndn: o=gluu\n'
    first, second = oxauth.parse_ldif(text)
    assert first.first("dat") == '{"a": 1}'
    assert first.first("UUID") == "1"
    assert second.dn == "o=gluu"


def test_filter_values_are_escaped() -> None:
    assert oxauth.escape_filter("a*(b)\\c\0") == "a\\2a\\28b\\29\\5cc\\00"


def test_secrets_round_trip_and_reject_garbage() -> None:
    assert oxauth.decode_secret(oxauth.encode_secret("pä ss")) == "pä ss"
    with pytest.raises(ValueError):
        oxauth.decode_secret("not base64!")


def test_log_lines_look_like_log4j() -> None:
    record = logging.LogRecord(
        "org.gluu.oxauth.auth.Authenticator", logging.WARNING, "x.py", 42, "hi %s", ("there",), None
    )
    record.threadName = "qtp1-7"
    line = oxauth.Log4jFormatter().format(record)
    pattern = (
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARN  \[qtp1-7\] "
        r"\[org\.gluu\.oxauth\.auth\.Authenticator\] \(Authenticator\.java:42\) - hi there"
    )
    assert re.fullmatch(pattern, line)


def test_init_script_has_an_lsb_header_and_valid_syntax(tmp_path: Any) -> None:
    text = oxauth.init_script(app_path="/opt/my app/oxauth.pyz")
    assert text.startswith("#!/bin/sh\n### BEGIN INIT INFO\n")
    assert "# Required-Start:    $network slapd\n" in text
    assert "APP='/opt/my app/oxauth.pyz'\n" in text
    assert "--retry TERM/5/KILL/5" in text
    script = tmp_path / "oxauth"
    script.write_text(text)
    assert subprocess.run(["sh", "-n", str(script)]).returncode == 0


def test_defaults_accept_only_single_words() -> None:
    assert oxauth.defaults_text(["--port", "8443"]) == 'OXAUTH_OPTS="--port 8443"\n'
    with pytest.raises(ValueError):
        oxauth.defaults_text(["--log-dir", "/var/my logs"])
    with pytest.raises(ValueError):
        oxauth.defaults_text(["$(reboot)"])


# --- RESP against a scripted peer ----------------------------------------------------


def resp_exchange(replies: bytes, *command: str | int) -> tuple[Any, bytes]:
    """Send ``command`` through Resp to a peer that answers ``replies``; (result, bytes sent)."""
    ours, theirs = socket.socketpair()
    with theirs:
        theirs.sendall(replies)
        with oxauth.Resp(ours) as client:
            result = client.call(*command)
        return result, theirs.recv(4096)


def test_resp_frames_commands_as_bulk_strings() -> None:
    result, sent = resp_exchange(b"+OK\r\n", "SET", "k", "v", "EX", 60)
    assert result == "OK"
    assert sent == b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nEX\r\n$2\r\n60\r\n"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (b"$5\r\nhello\r\n", "hello"),
        (b"$-1\r\n", None),
        (b":42\r\n", 42),
        (b"*2\r\n$1\r\na\r\n:1\r\n", ["a", 1]),
    ],
)
def test_resp_reads_replies(reply: bytes, expected: Any) -> None:
    assert resp_exchange(reply, "GET", "k")[0] == expected


def test_resp_errors_raise() -> None:
    with pytest.raises(oxauth.RedisError, match="WRONGPASS"):
        resp_exchange(b"-WRONGPASS invalid username-password pair\r\n", "AUTH", "x")


def test_redis_store_reads_its_section() -> None:
    config = directory.redis_cache_config("a:1, b:2", "pw")
    store = oxauth.make_store(config, ldap=None, suffix="o=gluu")  # type: ignore[arg-type]
    assert isinstance(store, oxauth.RedisStore)
    assert store.servers == ["a:1", "b:2"]
    assert store.ttl == 60


def test_unsupported_providers_are_refused() -> None:
    with pytest.raises(ValueError, match="MEMCACHED"):
        oxauth.make_store({"cacheProviderType": "MEMCACHED"}, ldap=None, suffix="o=gluu")  # type: ignore[arg-type]


def test_redis_store_fails_over_and_reports_every_server() -> None:
    dead = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]
    store = oxauth.RedisStore(directory.redis_cache_config(",".join(dead)))
    with pytest.raises(oxauth.CacheUnavailable) as failed:
        store.load("x")
    assert all(server in str(failed.value) for server in dead)


# --- Cache configuration changes -----------------------------------------------------


class FakeLdap:
    """Answers the configuration search with whatever ``config`` holds; counts reads."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config: dict[str, Any] | None = config
        self.reads = 0

    def search(self, base: str, scope: str, filterstr: str, attrs: Sequence[str]) -> list[Any]:
        self.reads += 1
        if self.config is None:
            raise oxauth.LdapError(255, "Can't contact LDAP server")
        value = json.dumps(self.config)
        return [oxauth.Entry(base, {"oxcacheconfiguration": [value]})]


def test_cache_service_rereads_after_its_ttl_and_logs_switches(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ldap = FakeLdap(directory.native_cache_config())
    service = oxauth.CacheService(ldap, "o=gluu", ttl=0.0)  # type: ignore[arg-type]
    caplog.set_level(logging.INFO, logger=oxauth.cache_log.name)
    assert service.store().provider == "NATIVE_PERSISTENCE"
    ldap.config = directory.redis_cache_config("r:7000")
    assert service.store().provider == "REDIS"
    assert service.store().provider == "REDIS"
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "Created cache provider NATIVE_PERSISTENCE (baseDn: ou=cache,o=gluu)",
        "Cache provider changed: NATIVE_PERSISTENCE (baseDn: ou=cache,o=gluu) -> REDIS "
        "(servers: r:7000)",
    ]


def test_cache_service_reads_at_most_once_per_ttl() -> None:
    ldap = FakeLdap(directory.native_cache_config())
    service = oxauth.CacheService(ldap, "o=gluu", ttl=60.0)  # type: ignore[arg-type]
    for _ in range(5):
        service.store()
    assert ldap.reads == 1


def test_cache_service_keeps_the_last_store_while_ldap_is_down() -> None:
    ldap = FakeLdap(directory.redis_cache_config("r:7000"))
    service = oxauth.CacheService(ldap, "o=gluu", ttl=0.0)  # type: ignore[arg-type]
    first = service.store()
    ldap.config = None
    assert service.store() is first


def test_cache_service_without_any_configuration_is_unavailable() -> None:
    ldap = FakeLdap({})
    ldap.config = None
    service = oxauth.CacheService(ldap, "o=gluu", ttl=0.0)  # type: ignore[arg-type]
    with pytest.raises(oxauth.CacheUnavailable):
        service.store()


def test_in_memory_sessions_stay_in_the_process() -> None:
    store = oxauth.InMemoryStore({"inMemoryConfiguration": {"defaultPutExpiration": 60}})
    store.save({"session_id": "s1", "user": "admin"})
    assert store.load("s1") == {"session_id": "s1", "user": "admin"}
    assert store.load("s2") is None


# --- Routing without a directory -----------------------------------------------------


@pytest.fixture
def offline_app(tmp_path: Path) -> oxauth.OxAuth:
    """The app pointed at a port where no LDAP listens."""
    settings = oxauth.LdapSettings((f"ldap://127.0.0.1:{free_port()}",), "cn=x,o=gluu", "pw")
    ldap = oxauth.Ldap(settings, timeout=5.0)
    cache = oxauth.CacheService(ldap, "o=gluu")
    keys = oxauth.KeystoreFile(str(tmp_path / "oxauth-keys.json"))
    return oxauth.OxAuth(
        ldap=ldap, cache=cache, suffix="o=gluu", issuer_host="idp", node="n1", keys=keys
    )


def call(app: oxauth.OxAuth, method: str, path: str, body: bytes = b"") -> oxauth.Response:
    request = oxauth.Request(method, path, "application/json", body, "127.0.0.1")
    return app.handle(request)


def test_health_check_is_offline_without_ldap(offline_app: oxauth.OxAuth) -> None:
    answer = call(offline_app, "GET", "/oxauth/restv1/health-check")
    assert (answer.status, answer.body) == (503, {"status": "running", "db_status": "offline"})


def test_login_without_ldap_is_503(offline_app: oxauth.OxAuth) -> None:
    answer = call(offline_app, "POST", "/oxauth/restv1/login", b'{"username":"a","password":"b"}')
    assert answer.status == 503
    assert answer.body["error"] == "temporarily_unavailable"


def test_session_ids_that_are_not_tokens_are_not_routed(offline_app: oxauth.OxAuth) -> None:
    answer = call(offline_app, "GET", "/oxauth/restv1/session/a,ou=people")
    assert answer.status == 404


def test_both_discovery_paths_answer(offline_app: oxauth.OxAuth) -> None:
    for path in oxauth.DISCOVERY_PATHS:
        answer = call(offline_app, "GET", path)
        assert answer.status == 200
        assert answer.body["issuer"] == "https://idp"


def test_head_is_routed_as_get_and_only_where_get_is(offline_app: oxauth.OxAuth) -> None:
    for path in oxauth.DISCOVERY_PATHS:
        assert call(offline_app, "HEAD", path).status == 200
    assert call(offline_app, "HEAD", "/oxauth/restv1/health-check").status == 503
    assert call(offline_app, "HEAD", "/oxauth/restv1/login").status == 405
