"""The oxAuth stand-in against real slapd and Redis, from the outside: HTTPS, LDAP, redis-cli's view."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from clustermgr.lab.gluu import directory, oxauth
from gluu_lab import (
    ADMIN_PASSWORD,
    ISSUER_HOST,
    PYTHON,
    REDIS_PASSWORD,
    ROOT_PASSWORD,
    App,
    Redis,
    Slapd,
    Tls,
    build_app,
    build_slapd,
    free_port,
    wait_for,
)

HEALTH = "/oxauth/restv1/health-check"
CONFIG_DN = "ou=configuration,o=gluu"
SWITCH_TIMEOUT = 10.0

SwitchCache = Callable[[dict[str, Any], str], dict[str, Any]]


def login_in(app: App, provider: str) -> dict[str, Any] | None:
    """A successful admin login's answer if its session went to ``provider``, else None."""
    status, body = app.login("admin", ADMIN_PASSWORD)
    return body if status == 200 and body["cache"] == provider else None


@pytest.fixture
def switch_cache(app: App, slapd: Slapd) -> Iterator[SwitchCache]:
    """``switch(config, provider)``: ldapmodify oxCacheConfiguration, wait until logins use it.

    Puts NATIVE_PERSISTENCE back afterwards, so tests do not depend on their order.
    """

    def switch(config: dict[str, Any], provider: str) -> dict[str, Any]:
        entry = slapd.search(CONFIG_DN, "base", "(objectClass=*)", "oxRevision")[0]
        revision = int(entry.first("oxRevision") or 0) + 1
        slapd.modify(directory.cache_config_change_ldif(cache_config=config, revision=revision))
        return wait_for(lambda: login_in(app, provider), f"logins in {provider}", SWITCH_TIMEOUT)

    yield switch
    switch(directory.native_cache_config(), "NATIVE_PERSISTENCE")


def test_discovery_names_the_issuer_and_oxauth_endpoints(app: App) -> None:
    status, body = app.get("/.well-known/openid-configuration")
    assert status == 200
    issuer = f"https://{ISSUER_HOST}"
    assert body["issuer"] == issuer
    for key, path in [
        ("authorization_endpoint", "/oxauth/restv1/authorize"),
        ("token_endpoint", "/oxauth/restv1/token"),
        ("userinfo_endpoint", "/oxauth/restv1/userinfo"),
        ("jwks_uri", "/oxauth/restv1/jwks"),
        ("end_session_endpoint", "/oxauth/restv1/end_session"),
    ]:
        assert body[key] == issuer + path
    assert "code" in body["response_types_supported"]


def test_health_check_is_online_while_ldap_answers(app: App) -> None:
    assert app.get(HEALTH) == (200, {"status": "running", "db_status": "online"})


def test_login_stores_the_session_as_an_ldap_cache_entry(app: App, slapd: Slapd) -> None:
    status, body = app.login("admin", ADMIN_PASSWORD)
    assert status == 200
    assert body["cache"] == "NATIVE_PERSISTENCE"
    assert body["node"] == os.uname().nodename
    session_id = body["session_id"]

    status, session = app.get(f"/oxauth/restv1/session/{session_id}")
    assert status == 200
    assert session["user"] == "admin"
    assert session["node"] == body["node"]
    assert session["session_id"] == session_id

    [entry] = slapd.search(f"uuid={session_id},ou=cache,o=gluu", "base", "(objectClass=cache)")
    assert entry.first("uuid") == session_id
    assert entry.first("del") == "TRUE"
    assert (entry.first("exp") or "").endswith("Z")
    assert json.loads(entry.first("dat") or "{}")["user"] == "admin"

    audit = app.logs()["oxauth_audit.log"]
    assert (
        f'USER_AUTHENTICATION_SUCCESS result=success user="admin" session_id={session_id}' in audit
    )
    assert "client_ip=127.0.0.1" in audit
    assert re.search(
        r" INFO  \[qtp\d+-\d+\] \[org\.gluu\.oxauth\.auth\.Authenticator\] ",
        app.logs()["oxauth.log"],
    )


def test_an_unknown_session_is_404(app: App) -> None:
    status, body = app.get("/oxauth/restv1/session/00000000-0000-4000-8000-000000000000")
    assert status == 404
    assert body["error"] == "not_found"


def test_wrong_password_is_401_audited_and_never_logged(app: App) -> None:
    wrong = "Wrong-pa55word-zzz"
    status, body = app.login("admin", wrong)
    assert status == 401
    assert body["error"] == "invalid_credentials"
    assert app.login("nobody", ADMIN_PASSWORD)[0] == 401
    assert app.login("admin", "")[0] == 401  # an empty password must not pass as an anonymous bind
    assert app.login("adm*", ADMIN_PASSWORD)[0] == 401  # filter characters are escaped

    logs = app.logs()
    audit = logs["oxauth_audit.log"].splitlines()
    assert any("result=failure" in line and 'user="admin"' in line for line in audit)
    assert any("result=failure" in line and 'user="nobody"' in line for line in audit)
    for name, text in logs.items():
        for secret in (wrong, ADMIN_PASSWORD, ROOT_PASSWORD, REDIS_PASSWORD):
            assert secret not in text, f"a password leaked into {name}"


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type", "status", "error"),
    [
        ("GET", "/nothing/here", None, "application/json", 404, "not_found"),
        ("GET", "/oxauth/restv1/login", None, "application/json", 405, "method_not_allowed"),
        ("DELETE", HEALTH, None, "application/json", 405, "method_not_allowed"),
        ("POST", "/oxauth/restv1/login", b"{}", "application/json", 400, "invalid_request"),
        ("POST", "/oxauth/restv1/login", b"{not json", "application/json", 400, "invalid_request"),
    ],
)
def test_every_error_has_one_shape(
    app: App, method: str, path: str, body: bytes | None, content_type: str, status: int, error: str
) -> None:
    got_status, got = app.request(method, path, body, content_type)
    assert got_status == status
    assert set(got) == {"error", "error_description"}
    assert got["error"] == error


def test_form_login_works_too(app: App) -> None:
    body = f"username=admin&password={ADMIN_PASSWORD}".encode()
    status, answer = app.request(
        "POST", "/oxauth/restv1/login", body, "application/x-www-form-urlencoded"
    )
    assert status == 200
    assert answer["session_id"]


def test_switching_the_cache_to_redis_and_back(
    app: App, slapd: Slapd, redis: Redis, switch_cache: SwitchCache
) -> None:
    dead = f"127.0.0.1:{free_port()}"
    servers = f"{dead},127.0.0.1:{redis.port}"  # the first reachable server is used
    answer = switch_cache(directory.redis_cache_config(servers, REDIS_PASSWORD), "REDIS")

    key = f"session_{answer['session_id']}"
    stored = json.loads(redis.call("GET", key))
    assert stored["user"] == "admin"
    assert stored["node"] == answer["node"]
    assert 0 < redis.call("TTL", key) <= directory.DEFAULT_PUT_EXPIRATION
    assert app.get(f"/oxauth/restv1/session/{answer['session_id']}") == (200, stored)
    assert not slapd.search(f"uuid={answer['session_id']},ou=cache,o=gluu")

    back = switch_cache(directory.native_cache_config(), "NATIVE_PERSISTENCE")
    assert slapd.search(f"uuid={back['session_id']},ou=cache,o=gluu")
    assert redis.call("GET", f"session_{back['session_id']}") is None

    log = app.logs()["oxauth.log"]
    assert "Cache provider changed: NATIVE_PERSISTENCE (baseDn: ou=cache,o=gluu) -> REDIS" in log
    assert f"REDIS (servers: {servers}) -> NATIVE_PERSISTENCE" in log


def test_an_unreachable_redis_makes_logins_503(
    app: App, slapd: Slapd, switch_cache: SwitchCache
) -> None:
    """``switch_cache`` is used for its teardown: NATIVE_PERSISTENCE comes back after."""
    config = directory.redis_cache_config(f"127.0.0.1:{free_port()}", REDIS_PASSWORD)
    slapd.modify(directory.cache_config_change_ldif(cache_config=config, revision=1000))

    def refused() -> dict[str, Any] | None:
        status, body = app.login("admin", ADMIN_PASSWORD)
        return body if status == 503 else None

    body = wait_for(refused, "logins refused with 503", SWITCH_TIMEOUT)
    assert body["error"] == "temporarily_unavailable"
    assert "Redis" in body["error_description"]
    assert 'Login of "admin" failed: Redis' in app.logs()["oxauth.log"]


def test_health_check_reports_offline_while_slapd_is_down(
    tls: Tls, pyz: Path, tmp_path: Path
) -> None:
    """Its own slapd and app: stopping the directory must not disturb the other tests."""
    slapd = build_slapd(tmp_path / "slapd")
    app = build_app(tmp_path / "oxauth", slapd, tls, pyz)
    try:
        assert app.get(HEALTH)[0] == 200
        slapd.stop()
        assert app.get(HEALTH) == (503, {"status": "running", "db_status": "offline"})
        status, body = app.login("admin", ADMIN_PASSWORD)
        assert (status, body["error"]) == (503, "temporarily_unavailable")

        slapd.start()  # same port, same database
        assert wait_for(lambda: app.get(HEALTH)[0] == 200 or None, "health-check online")
        assert app.login("admin", ADMIN_PASSWORD)[0] == 200

        assert app.pid_file.read_text().strip() == str(app.process.pid if app.process else "")
        assert app.stop() == 0  # SIGTERM: a clean exit
        assert not app.pid_file.exists()
        log = app.logs()["oxauth.log"]
        assert "Health check: LDAP is not available" in log
        assert log.rstrip().endswith("oxAuth stopped")
    finally:
        app.stop()
        slapd.stop()


def _alive(pid: int) -> bool:
    """Running, not a zombie (the lab's PID 1 reaps late; ``kill -0`` would lie).

    start-stop-daemon takes a process for gone once its ``/proc/PID/exe`` is (the
    kernel drops it early in the process's exit), a moment before the process turns
    into a zombie: a process that is exiting gets that moment (at most 10 s) to end.
    """
    deadline = time.monotonic() + 10
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, IndexError):
            return False
        if state == "Z":
            return False
        exiting = not Path(f"/proc/{pid}/exe").exists()
        if not exiting or time.monotonic() > deadline:
            return True
        time.sleep(0.05)


def test_init_script_starts_reports_and_stops_the_app(
    slapd: Slapd, tls: Tls, pyz: Path, tmp_path: Path
) -> None:
    app = App(tmp_path, free_port(), tls, pyz)
    (tmp_path / "ox-ldap.properties").write_text(
        directory.ox_ldap_properties(
            servers=[f"127.0.0.1:{slapd.port}"],
            bind_dn=directory.ROOT_DN,
            bind_password=ROOT_PASSWORD,
        )
    )
    defaults = tmp_path / "default-oxauth"
    defaults.write_text(oxauth.defaults_text(app.args()))
    pidfile = tmp_path / "run" / "oxauth.pid"
    pidfile.parent.mkdir()
    script = tmp_path / "oxauth.init"
    script.write_text(
        oxauth.init_script(
            python=PYTHON, app_path=str(pyz), pidfile=str(pidfile), defaults_file=str(defaults)
        )
    )

    def service(verb: str) -> int:
        return subprocess.run(
            ["sh", str(script), verb], capture_output=True, check=False
        ).returncode

    try:
        assert service("status") == 3
        assert service("start") == 0
        app.wait_ready()
        first = int(pidfile.read_text())
        assert service("status") == 0
        assert service("start") == 0  # already running: success, and still the same process
        assert int(pidfile.read_text()) == first

        assert service("restart") == 0
        app.wait_ready()
        second = int(pidfile.read_text())
        assert second != first
        assert not _alive(first)

        assert service("stop") == 0
        assert not _alive(second)
        assert not pidfile.exists()
        assert service("status") == 3
        assert service("stop") == 0  # already stopped: success
    finally:
        if pidfile.exists():
            service("stop")


def test_a_bad_content_length_is_400_in_the_error_shape(app: App) -> None:
    connection = http.client.HTTPSConnection(
        "127.0.0.1", app.port, context=app.tls.client_context(), timeout=10
    )
    try:
        connection.putrequest("POST", "/oxauth/restv1/login")
        connection.putheader("Content-Length", "lots")
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 400
        assert json.loads(response.read())["error"] == "invalid_request"
    finally:
        connection.close()


def test_head_answers_a_get_without_its_body_and_the_connection_goes_on(app: App) -> None:
    connection = http.client.HTTPSConnection(
        "127.0.0.1", app.port, context=app.tls.client_context(), timeout=10
    )
    path = "/.well-known/openid-configuration"
    try:
        connection.request("GET", path)
        got = connection.getresponse()
        body = got.read()
        connection.request("HEAD", path)
        head = connection.getresponse()
        assert head.status == 200
        assert head.getheader("Content-Type") == "application/json"
        assert head.getheader("Content-Length") == str(len(body))
        assert head.read() == b""
        # No body was sent after the headers: the next answer on the connection is whole.
        connection.request("GET", path)
        again = connection.getresponse()
        assert (
            again.status == 200 and json.loads(again.read())["issuer"] == f"https://{ISSUER_HOST}"
        )
        connection.request("HEAD", "/oxauth/restv1/login")
        refused = connection.getresponse()
        assert (refused.status, refused.read()) == (405, b"")
    finally:
        connection.close()


def introspect(app: App, token: str) -> bool:
    body = f"token={token}".encode()
    status, answer = app.request(
        "POST", oxauth.INTROSPECTION_PATH, body, "application/x-www-form-urlencoded"
    )
    assert status == 200, answer
    return bool(answer["active"])


def kid_of(token: str) -> str:
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    return str(header["kid"])


def test_login_returns_a_token_signed_by_the_keystore_it_rereads(app: App) -> None:
    """A rotation by rewriting the keystore file only, with the app running throughout:
    tokens signed before it stay valid until their key is removed."""
    pid = app.process.pid if app.process else None
    first = json.loads(app.keystore.read_text())
    status, body = app.login("admin", ADMIN_PASSWORD)
    assert status == 200 and body["token_type"] == "Bearer" and body["expires_in"] > 0
    old_token = body["access_token"]
    assert kid_of(old_token) == first["signing_kid"] and introspect(app, old_token)
    status, jwks = app.get(oxauth.JWKS_PATH)
    assert status == 200 and [k["kid"] for k in jwks["keys"]] == [first["signing_kid"]]
    assert "d" not in jwks["keys"][0]

    new = oxauth.new_key()
    rotation = [
        oxauth.with_key(first, new),
        oxauth.with_signing_key(oxauth.with_key(first, new), new["kid"]),
    ]
    for document in rotation:
        write_keystore(app, document)
        assert introspect(app, old_token)
    new_token = app.login("admin", ADMIN_PASSWORD)[1]["access_token"]
    assert kid_of(new_token) == new["kid"]
    write_keystore(app, oxauth.without_key(rotation[-1], first["signing_kid"]))
    assert not introspect(app, old_token) and introspect(app, new_token)
    assert [k["kid"] for k in app.get(oxauth.JWKS_PATH)[1]["keys"]] == [new["kid"]]
    assert (app.process.pid if app.process else None) == pid  # no restart


def write_keystore(app: App, document: dict[str, Any]) -> None:
    temp = app.keystore.with_suffix(".new")
    temp.write_text(oxauth.keystore_text(document))
    os.replace(temp, app.keystore)
