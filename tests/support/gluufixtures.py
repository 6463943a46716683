"""Fixtures for the Gluu look-alike: a slapd, a Redis and the oxAuth stand-in per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gluu_lab import (
    App,
    Redis,
    Slapd,
    Tls,
    build_app,
    build_redis,
    build_slapd,
    make_tls,
    missing_tools,
    write_zipapp,
)


@pytest.fixture(scope="session")
def tools() -> None:
    reason = missing_tools()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def tls(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def pyz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stand-in's zipapp, built once: every app in these tests runs from it."""
    return write_zipapp(tmp_path_factory.mktemp("bundle"))


@pytest.fixture(scope="module")
def slapd(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """A slapd loaded from our renderers: Gluu schema, o=gluu, NATIVE_PERSISTENCE cache."""
    server = build_slapd(tmp_path_factory.mktemp("slapd"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def redis(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Redis]:
    server = build_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def app(
    slapd: Slapd, tls: Tls, pyz: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[App]:
    """The stand-in from its zipapp, HTTPS on a free loopback port, reading ``slapd``."""
    running = build_app(tmp_path_factory.mktemp("oxauth"), slapd, tls, pyz)
    try:
        yield running
    finally:
        running.stop()
