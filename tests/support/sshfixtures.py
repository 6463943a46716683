"""Fixtures for integration tests: real sshd servers on loopback ports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence

import pytest

from clustermgr.remote.ssh import MAX_SESSIONS, SshConnection, connect
from clustermgr.remote.target import HostKey, SshCredentials
from sshd import Connect, SshdHost, SshdLab, missing_tools, sshd_lab

CONNECT_TIMEOUT = 10.0
COMMAND_TIMEOUT = 30.0


@pytest.fixture(scope="session")
def sshds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshdLab]:
    """Three sshd servers (node1..node3), shared by every integration test."""
    reason = missing_tools()
    if reason:
        pytest.skip(reason)
    with sshd_lab(tmp_path_factory.mktemp("sshd")) as running:
        yield running


@pytest.fixture(scope="session")
def node(sshds: SshdLab) -> SshdHost:
    return sshds.hosts[0]


@pytest.fixture
def open_ssh(sshds: SshdLab) -> Connect:
    """``await open_ssh(host, credentials=None, pinned=None, **timeouts)`` with the defaults of the sshd hosts.

    Defaults: the unencrypted client key and the host's real host key.
    """

    async def _open(
        host: SshdHost,
        credentials: SshCredentials | None = None,
        pinned: Sequence[HostKey] | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        command_timeout: float = COMMAND_TIMEOUT,
        max_sessions: int = MAX_SESSIONS,
    ) -> SshConnection:
        return await connect(
            host.target,
            credentials or sshds.client_key.credentials(),
            [host.host_key] if pinned is None else pinned,
            connect_timeout=connect_timeout,
            command_timeout=command_timeout,
            max_sessions=max_sessions,
        )

    return _open


@pytest.fixture
async def ssh(node: SshdHost, open_ssh: Connect) -> AsyncIterator[SshConnection]:
    """An open connection to node1, closed after the test."""
    connection = await open_ssh(node)
    yield connection
    await connection.close()
