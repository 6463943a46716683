"""The node-side agreement check: parsing olcSyncrepl, classifying ldapwhoami, no secret leaks."""

from __future__ import annotations

import base64
import subprocess
from typing import Any

import pytest

from clustermgr.components.ldap import agreementcheck as check

SYNCREPL = (
    '{1}rid=003 provider=ldap://idp3.lab.test:389 bindmethod=simple binddn="cn=replicator,o=gluu"'
    ' credentials="s3cret pass" searchbase="o=gluu" type=refreshAndPersist retry="5 5 60 +"'
    ' syncdata=accesslog starttls=critical tls_reqcert=demand tls_cacert="/etc/ldap/tls/ca.pem"'
)


def test_an_agreement_is_read_with_its_quotes_removed() -> None:
    settings = check.agreement(SYNCREPL)
    assert settings["rid"] == "003"
    assert settings["provider"] == "ldap://idp3.lab.test:389"
    assert settings["binddn"] == "cn=replicator,o=gluu"
    assert settings["credentials"] == "s3cret pass"
    assert settings["retry"] == "5 5 60 +"
    assert settings["tls_cacert"] == "/etc/ldap/tls/ca.pem"


def test_attribute_values_plain_and_base64() -> None:
    encoded = base64.b64encode("rid=001 provider=ldap://ü".encode()).decode()
    ldif = f"dn: x\nolcSyncrepl: {SYNCREPL}\nolcSyncRepl:: {encoded}\nother: y\n"
    assert check.attribute(ldif, "olcSyncrepl") == [SYNCREPL, "rid=001 provider=ldap://ü"]


@pytest.mark.parametrize(
    ("status", "stderr", "starttls", "state"),
    [
        (0, "", True, "ok"),
        (49, "ldap_bind: Invalid credentials (49)\n", True, "credentials"),
        (
            1,
            "ldap_start_tls: Connect error (-11)\n\tadditional info: (unknown error code)",
            True,
            "tls",
        ),
        (1, "ldap_start_tls: Can't contact LDAP server (-1)\n", True, "unreachable"),
        (1, "ldap_sasl_bind(SIMPLE): Can't contact LDAP server (-1)\n", False, "unreachable"),
        (1, "ldap_bind: Server is unavailable (52)\n", False, "unreachable"),
        (1, "ldap_bind: Other (e.g., implementation specific) error (80)\n", False, "error"),
        (1, "", False, "error"),
    ],
)
def test_ldapwhoami_outcomes(status: int, stderr: str, starttls: bool, state: str) -> None:
    found, reason = check.classify(status, stderr, starttls=starttls)
    assert found == state
    assert "\n" not in reason and (reason or status == 0)


def test_the_command_holds_no_credentials_and_carries_the_tls_settings() -> None:
    command, env = check.whoami_command(check.agreement(SYNCREPL), 1.0)
    assert "s3cret pass" not in " ".join(command) + " ".join(env.values())
    assert command[-2:] == ["-y", "/dev/stdin"] and "-ZZ" in command
    assert env == {"LDAPTLS_REQCERT": "demand", "LDAPTLS_CACERT": "/etc/ldap/tls/ca.pem"}


def test_credentials_go_on_stdin_and_never_into_the_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[dict[str, Any]] = []

    def fake_run(command: list[str], **kw: Any) -> subprocess.CompletedProcess[bytes]:
        calls.append({"command": command, **kw})
        return subprocess.CompletedProcess(command, 49, b"", b"ldap_bind: Invalid credentials (49)")

    monkeypatch.setattr(check, "tcp_reason", lambda url, timeout: None)
    monkeypatch.setattr(subprocess, "run", fake_run)
    answer = check.check(check.agreement(SYNCREPL), 1.0)
    assert answer == {
        "rid": "003",
        "provider": "ldap://idp3.lab.test:389",
        "state": "credentials",
        "reason": "ldap_bind: Invalid credentials (49)",
    }
    (call,) = calls
    assert call["input"] == b"s3cret pass"
    assert "s3cret" not in repr(call["command"]) + repr(call["env"])


def test_a_provider_that_does_not_accept_connections_is_unreachable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_run(*args: Any, **kw: Any) -> None:
        raise AssertionError("ldapwhoami must not run when TCP fails")

    monkeypatch.setattr(subprocess, "run", no_run)
    settings = {**check.agreement(SYNCREPL), "provider": "ldap://127.0.0.1:1"}
    answer = check.check(settings, 1.0)
    assert answer["state"] == "unreachable" and "127.0.0.1:1" in answer["reason"]
