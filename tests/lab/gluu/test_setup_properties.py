"""setup.properties: Java properties syntax read and written, and the settings checked."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clustermgr.lab.gluu.setup.properties import (
    PropertiesError,
    format_properties,
    parse_properties,
    validate,
)

GOOD = {
    "hostname": "Login.Example.org",
    "orgName": "Example, Inc.",
    "city": "Austin",
    "state": "TX",
    "countryCode": "US",
    "admin_email": "admin@example.org",
    "ldapPass": "dir secret 1",
    "oxtrust_admin_password": "admin secret 2",
    "installLdap": "True",
    "installOxAuth": "true",
    "installHttpd": "False",
}


def test_java_syntax_comments_separators_continuations_and_escapes() -> None:
    text = (
        "# a comment\r\n"
        "  ! another = not a key\n"
        "\n"
        "plain=value with spaces  \n"
        "colon : v2\n"
        "blank   v3\n"
        "key\\ with\\=odd\\:chars = x\n"
        "long = first, \\\n"
        "       second\n"
        "escapes = tab\\there\\nnew\\u0041\\q\n"
        "backslash = ends\\\\\n"
        "next = after\n"
        "empty=\n"
        "twice = 1\n"
        "twice = 2\n"
        "# trailing continuation \\\n"
        "not_swallowed = yes"
    )
    assert parse_properties(text) == {
        "plain": "value with spaces  ",
        "colon": "v2",
        "blank": "v3",
        "key with=odd:chars": "x",
        "long": "first, second",
        "escapes": "tab\there\nnewAq",
        "backslash": "ends\\",
        "next": "after",
        "empty": "",
        "twice": "2",
        "not_swallowed": "yes",
    }


def test_a_malformed_unicode_escape_is_an_error() -> None:
    with pytest.raises(PropertiesError, match="uXXXX"):
        parse_properties("a = \\u12x4\n")


NASTY = [
    "",
    " leading and trailing ",
    "quotes ' \" ` and $HOME",
    "back\\slash\\",
    "=:#! at the start",
    "line\nbreak\r\tand\ffeed",
    "ünïcödé ✓",
    "\\u0041 literally",
]


@pytest.mark.parametrize("value", NASTY)
def test_what_is_written_reads_back_the_same(value: str) -> None:
    values = {"ldapPass": value, f"key {value}": "x"}
    assert parse_properties(format_properties(values)) == values


@given(st.dictionaries(st.text(min_size=1), st.text(), max_size=5))
def test_any_text_round_trips(values: dict[str, str]) -> None:
    assert parse_properties(format_properties(values)) == values


def test_good_settings() -> None:
    settings = validate(GOOD)
    assert settings.hostname == "login.example.org"
    assert (settings.install_ldap, settings.install_oxauth, settings.install_httpd) == (
        True,
        True,
        False,
    )
    assert settings.ldap_password == "dir secret 1"
    assert "dir secret" not in repr(settings) and "admin secret" not in repr(settings)
    flags_default = {k: v for k, v in GOOD.items() if not k.startswith("install")}
    assert validate(flags_default).install_httpd is True


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("hostname", "localhost", "fully qualified"),
        ("hostname", "bad_name.example.org", "fully qualified"),
        ("hostname", "-x.example.org", "fully qualified"),
        ("orgName", " ", "empty"),
        ("city", "x" * 65, "at most 64"),
        ("state", "Tex\nas", "control"),
        ("countryCode", "usa", "two-letter"),
        ("countryCode", "us", "two-letter"),
        ("admin_email", "admin", "email"),
        ("ldapPass", "short", "at least 6"),
        ("oxtrust_admin_password", "12345", "at least 6"),
        ("oxtrust_admin_password", "nul\0inside", "NUL"),
        ("installLdap", "yes", "True or False"),
    ],
)
def test_a_bad_value_names_its_key(key: str, value: str, message: str) -> None:
    with pytest.raises(PropertiesError, match=message) as caught:
        validate({**GOOD, key: value})
    assert caught.value.key == key
    assert str(caught.value).startswith(f"{key}: ")
    if "pass" in key.lower():
        assert value not in str(caught.value), "a password never shows in an error"


@pytest.mark.parametrize("key", ["hostname", "ldapPass", "countryCode"])
def test_a_missing_key_is_named(key: str) -> None:
    values = {k: v for k, v in GOOD.items() if k != key}
    with pytest.raises(PropertiesError, match=f"^{key}: is missing$"):
        validate(values)


def test_the_app_needs_the_directory() -> None:
    with pytest.raises(PropertiesError, match="needs installLdap=True") as caught:
        validate({**GOOD, "installLdap": "False", "installOxAuth": "True"})
    assert caught.value.key == "installOxAuth"
