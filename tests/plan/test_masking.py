"""Sensitive files diff with their secrets masked line by line, or not at all."""

from __future__ import annotations

import secrets

import pytest

from clustermgr.plan.files import file_diff
from clustermgr.plan.masking import masked_diff
from clustermgr.plan.model import FileChange
from clustermgr.redact import MASK, Secret


def held() -> Secret:
    return Secret.held(secrets.token_urlsafe(18), label="test")


def lines(diff: str, sign: str) -> list[str]:
    return [x[1:] for x in diff.splitlines() if x.startswith(sign) and not x.startswith(sign * 3)]


def assert_hidden(diff: str, *values: str) -> None:
    for value in values:
        assert value not in diff
        assert value[:8] not in diff, "not even a part of a secret shows"


def test_key_value_secret_that_changes_shows_masked_on_both_sides() -> None:
    old_pw, new_pw = held(), held()
    old = f"port 6379\nrequirepass {old_pw.reveal()}\nmaxmemory 1gb\n"
    new = f"port 6380\nrequirepass {new_pw.reveal()}\nmaxmemory 1gb\n"
    diff = masked_diff("/etc/redis/redis.conf", old, new, (new_pw,))
    assert_hidden(diff, old_pw.reveal(), new_pw.reveal())
    assert lines(diff, "-") == ["port 6379", f"requirepass {MASK}"]
    assert lines(diff, "+") == ["port 6380", f"requirepass {MASK}"]
    assert " maxmemory 1gb" in diff.splitlines()


def test_an_old_secret_the_manager_no_longer_holds_is_masked_by_its_key() -> None:
    new_pw = held()
    forgotten = "ForgottenOldPassword-9f3a"  # never registered: only its key masks it
    old = f"# managed\nrequirepass   {forgotten}\n"
    new = f"# managed\nrequirepass {new_pw.reveal()}\n"
    diff = masked_diff("redis.conf", old, new, (new_pw,))
    assert_hidden(diff, forgotten, new_pw.reveal())
    assert lines(diff, "-") == [f"requirepass   {MASK}"]


def test_an_unchanged_secret_is_context_and_other_lines_diff_as_usual() -> None:
    pw = held()
    old = f"a: 1\n  redis_auth: {pw.reveal()}\nb: 2\n"
    new = f"a: 1\n  redis_auth: {pw.reveal()}\nb: 3\n"
    diff = masked_diff("nutcracker.yml", old, new, (pw,))
    assert_hidden(diff, pw.reveal())
    assert f"   redis_auth: {MASK}" in diff.splitlines()
    assert lines(diff, "-") == ["b: 2"] and lines(diff, "+") == ["b: 3"]


def test_yaml_quoted_secret_keeps_its_quotes_and_masks_the_old_one() -> None:
    pw = held()
    old = 'pool:\n  redis_auth: "OldQuotedSecretValue"\n'
    new = f'pool:\n  redis_auth: "{pw.reveal()}"\n'
    diff = masked_diff("x.yml", old, new, (pw,))
    assert_hidden(diff, pw.reveal(), "OldQuotedSecretValue")
    assert lines(diff, "-") == [f'  redis_auth: "{MASK}"']
    assert lines(diff, "+") == [f'  redis_auth: "{MASK}"']


def test_stunnel_psk_file_masks_the_key_not_the_identity() -> None:
    psk, other = held(), held()
    old = f"cache:OldPskValue0123456789abcdef\nlb:{other.reveal()}\n"
    new = f"cache:{psk.reveal()}\nlb:{other.reveal()}\n"
    diff = masked_diff("/etc/stunnel/psk.txt", old, new, (psk, other))
    assert_hidden(diff, psk.reveal(), other.reveal(), "OldPskValue0123456789abcdef")
    assert lines(diff, "-") == [f"cache:{MASK}"] and lines(diff, "+") == [f"cache:{MASK}"]
    assert f" lb:{MASK}" in diff.splitlines()


def test_a_new_file_shows_every_line_masked() -> None:
    pw = held()
    diff = masked_diff("redis.conf", None, f"bind 127.0.0.1\nrequirepass {pw.reveal()}\n", (pw,))
    assert diff.startswith("--- /dev/null\n")
    assert lines(diff, "+") == ["bind 127.0.0.1", f"requirepass {MASK}"]
    assert_hidden(diff, pw.reveal())


@pytest.mark.parametrize(
    "case",
    ["no secrets", "not held", "not in the content", "a whole line"],
)
def test_fails_closed_when_masking_cannot_be_trusted(case: str) -> None:
    pw = held()
    typed = Secret("TypedNotHeldSecret-1234")
    new = {
        "no secrets": f"requirepass {pw.reveal()}\n",
        "not held": f"requirepass {typed.reveal()}\n",
        "not in the content": "requirepass something-else-entirely\n",
        "a whole line": f"{pw.reveal()}\n",
    }[case]
    given = {"no secrets": (), "not held": (typed,)}.get(case, (pw,))
    diff = masked_diff("f.conf", "requirepass OldSecretValue-123\n", new, given)
    assert diff == "f.conf: content changes (holds secrets, not shown)\n"
    assert_hidden(diff, pw.reveal(), typed.reveal(), "OldSecretValue-123")


def test_file_diff_masks_a_sensitive_file_that_carries_its_secrets() -> None:
    pw = held()
    change = FileChange("/r.conf", f"requirepass {pw.reveal()}\n".encode(), sensitive=True)
    assert "not shown" in file_diff(change, b"requirepass Old-Secret-5678\n").diff
    carried = FileChange(
        "/r.conf", f"requirepass {pw.reveal()}\n".encode(), sensitive=True, secrets=(pw,)
    )
    diff = file_diff(carried, b"requirepass Old-Secret-5678\n").diff
    assert lines(diff, "-") == [f"requirepass {MASK}"]
    assert_hidden(diff, pw.reveal(), "Old-Secret-5678")


def test_secrets_nobody_declared_in_the_current_file_are_masked_too() -> None:
    """Written by hand under another key, or a PSK of an identity the new file drops."""
    pw = held()
    old = (
        "masterauth HandWritten-Pw-Value\n"
        "bindPassword: not-a-token-but-secret\n"
        "oldpeer:c2VjcmV0LXBzay12YWx1ZTEyMzQ1\n"
        "dir /var/lib/redis\n"
        "maxmemory-policy allkeys-lru\n"
    )
    new = f"requirepass {pw.reveal()}\ndir /var/lib/redis\nmaxmemory-policy volatile-lru\n"
    diff = masked_diff("redis.conf", old, new, (pw,))
    assert_hidden(diff, "HandWritten-Pw-Value", "not-a-token-but-secret", "c2VjcmV0LXBzay12")
    assert lines(diff, "-") == [
        f"masterauth {MASK}",
        f"bindPassword: {MASK}",
        f"oldpeer:{MASK}",
        "maxmemory-policy allkeys-lru",
    ]
    assert " dir /var/lib/redis" in diff.splitlines()
