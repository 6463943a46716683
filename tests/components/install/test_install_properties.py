"""setup.properties: every value reaches setup exactly, the passwords whatever they hold,
and nothing off its rule is ever written."""

from __future__ import annotations

import pytest

from clustermgr.components.install.properties import SetupValues, escape, parse, render
from clustermgr.components.install.settings import InstallSettings, Source
from clustermgr.errors import InvalidInput
from clustermgr.redact import MASK, Secret
from clustermgr.validation import EXAMPLE_KEY

NASTY = " lead 'quote\" back\\slash = colon: #hash !bang\ttab\nline ünï 🔑 end "


def settings(**changes: object) -> InstallSettings:
    fields: dict[str, object] = {
        "organization": "Acme Widgets, Inc",
        "city": "São Paulo",
        "state": "SP",
        "country": "br",
        "admin_email": "Admin@Example.org",
        "version": "4.5.0-1",
        "repository_url": "https://repo.example.org/gluu",
        "repository_key": EXAMPLE_KEY,
        **changes,
    }
    return InstallSettings.model_validate(fields)


def values(admin: str = NASTY) -> SetupValues:
    return SetupValues(
        "idp.example.org",
        settings(),
        Secret.held("Gen3rated_ldap-pass", label="t"),
        Secret.held(admin, label="t"),
    )


def test_every_value_reads_back_exactly() -> None:
    text = render(values())
    read = parse(text)
    assert read["oxtrust_admin_password"] == NASTY
    assert read["ldapPass"] == "Gen3rated_ldap-pass"
    assert (read["hostname"], read["orgName"], read["city"]) == (
        "idp.example.org",
        "Acme Widgets, Inc",
        "São Paulo",
    )
    assert (read["countryCode"], read["admin_email"]) == ("BR", "Admin@example.org")
    assert read["installLdap"] == read["installOxAuth"] == read["installHttpd"] == "True"
    assert text.isascii() and all(line.count("\n") == 0 for line in text.splitlines())


def test_java_reads_what_it_writes_the_same_way() -> None:
    """Python's reading of Java's format, checked against what Properties.store writes
    for the same characters (the escapes are those of the JDK's documentation)."""
    assert escape(" a") == "\\ a" and escape("a b") == "a b"
    assert escape("=:#!") == "\\=\\:\\#\\!"
    assert escape("é🔑") == "\\u00e9\\ud83d\\udd11"
    assert escape("\\\t\n\r\f") == "\\\\\\t\\n\\r\\f"


def test_the_review_shows_no_password() -> None:
    shown = render(values(), masked=True)
    assert NASTY.strip() not in shown and "Gen3rated" not in shown
    assert f"ldapPass={MASK}" in shown and f"oxtrust_admin_password={MASK}" in shown


def test_a_value_that_bypassed_the_model_is_refused() -> None:
    bad = settings().model_copy(update={"city": "x\ninstallLdap=False"})
    with pytest.raises(InvalidInput, match="refusing to write to a server"):
        render(SetupValues("idp.example.org", bad, Secret("a"), Secret("b")))


def test_a_source_must_be_complete() -> None:
    with pytest.raises(ValueError, match="repository_url and repository_key"):
        settings(repository_key=None)
    with pytest.raises(ValueError, match="package_sha256"):
        settings(source=Source.OFFLINE)
    assert settings(source=Source.OFFLINE, package_sha256="AB" * 32).package_sha256 == "ab" * 32
