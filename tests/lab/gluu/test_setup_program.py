"""The setup program's waits, off any node."""

from __future__ import annotations

import io
import time

import pytest

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
