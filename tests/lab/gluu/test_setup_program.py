"""The setup program's waits, off any node."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from clustermgr.lab.gluu import directory, oxauth
from clustermgr.lab.gluu.setup import program
from clustermgr.lab.gluu.setup.properties import validate
from gluupackage import PROPERTIES


def a_setup() -> program.Setup:
    build = program.Build(version="4.5.0-lab1", tls_include="/tmp/tls.conf", tls_include_text="")
    return program.Setup(validate(PROPERTIES), b"", build, io.StringIO())


def test_a_wait_asks_again_soon_and_ends_once_the_condition_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    answers = iter([False, False, True])
    a_setup().wait("never ready", lambda: next(answers))
    assert len(slept) == 2
    assert all(0 < pause <= 0.1 for pause in slept), slept


def test_a_wait_that_never_holds_fails_naming_what(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter(range(0, 1000, 10))
    monkeypatch.setattr(time, "monotonic", lambda: float(next(clock)))
    monkeypatch.setattr(time, "sleep", lambda _: None)
    with pytest.raises(program.SetupFailed, match="slapd does not answer within 30 s"):
        a_setup().wait("slapd does not answer", lambda: False)


def test_setup_makes_a_keystore_once_and_keeps_the_nodes_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "certs" / "oxauth-keys.json"
    monkeypatch.setattr(directory, "OXAUTH_KEYSTORE", str(path))
    setup = a_setup()
    setup.keystore()
    assert setup.changes == [f"created the token signing keys in {path}"]
    assert path.stat().st_mode & 0o777 == 0o600
    made = oxauth.read_keystore(str(path))
    assert len(made.keys) == 1
    again = a_setup()
    again.keystore()  # a cluster's keystore written before setup is kept too
    assert again.changes == []
    assert oxauth.read_keystore(str(path)).signing_kid == made.signing_kid


def test_setup_stops_at_an_invalid_keystore_and_leaves_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "oxauth-keys.json"
    path.write_text('{"keys": []}')
    monkeypatch.setattr(directory, "OXAUTH_KEYSTORE", str(path))
    with pytest.raises(program.SetupFailed, match="'signing_kid' None names no key"):
        a_setup().keystore()
    assert path.read_text() == '{"keys": []}'
