"""A channel's values are checked before anything is stored: each wrong field named, the
password never shown."""

from __future__ import annotations

import pytest

from clustermgr.errors import InvalidInput
from clustermgr.notify.channels import (
    MAX_RECIPIENTS,
    EmailSettings,
    check_password,
    parse_settings,
    parse_spec,
)
from clustermgr.redact import Secret

GOOD = {
    "host": "smtp.example.org",
    "sender": "clustermgr@example.org",
    "recipients": ["ops@example.org"],
}


def test_good_settings_in_canonical_form() -> None:
    settings = parse_settings("email", {**GOOD, "host": "SMTP.Example.org."})
    assert isinstance(settings, EmailSettings)
    assert (settings.host, settings.port, settings.starttls) == ("smtp.example.org", 587, True)
    hook = parse_settings("webhook", {"url": "https://hooks.example.org/services/T0?k=v"})
    assert hook.model_dump() == {"url": "https://hooks.example.org/services/T0?k=v"}


@pytest.mark.parametrize(
    ("kind", "values", "named"),
    [
        ("email", {**GOOD, "recipients": []}, "recipients"),
        ("email", {**GOOD, "recipients": ["ops@example.org"] * (MAX_RECIPIENTS + 1)}, "recipients"),
        ("email", {**GOOD, "sender": "nobody"}, "sender"),
        ("email", {**GOOD, "port": 0}, "port"),
        ("email", {**GOOD, "ca_file": "../ca.pem"}, "ca_file"),
        ("email", {**GOOD, "username": "a b"}, "username"),
        ("email", {**GOOD, "relay": "x"}, "relay"),
        ("webhook", {"url": "javascript:alert(1)"}, "url"),
        ("webhook", {"url": "https://x.example.org/a#frag"}, "url"),
    ],
)
def test_each_wrong_field_is_named(kind: str, values: dict[str, object], named: str) -> None:
    with pytest.raises(InvalidInput, match=named):
        parse_settings(kind, values)


def test_kind_name_and_severity() -> None:
    with pytest.raises(InvalidInput, match="invalid channel kind"):
        parse_settings("sms", {})
    with pytest.raises(InvalidInput, match="name"):
        parse_spec(name="Ops Mail")
    with pytest.raises(InvalidInput, match="min_severity"):
        parse_spec(name="ops", min_severity="urgent")
    assert parse_spec(name="ops", cluster="prod-1").cluster == "prod-1"


def test_a_bad_password_is_refused_without_showing_it() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_password(Secret("pass\r\nRSET", label="t"))
    assert "pass" not in refused.value.message.replace("password", "")
    with pytest.raises(InvalidInput):
        check_password(Secret("", label="t"))
    assert check_password(Secret("a good one", label="t")).reveal() == "a good one"
