"""SshConnection, host-key pinning and the pool against real sshd servers on loopback."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from clustermgr.errors import (
    AuthenticationFailed,
    CommandFailed,
    CommandTimeout,
    ConnectTimeout,
    HostKeyChanged,
    HostKeyUnknown,
    HostUnreachable,
    RemoteFileNotFound,
)
from clustermgr.redact import MASK, Secret
from clustermgr.remote.command import Command, Raw
from clustermgr.remote.connection import Connection
from clustermgr.remote.hostkeys import fingerprint, scan_host_key
from clustermgr.remote.pool import ConnectionPool, run_on_hosts
from clustermgr.remote.ssh import SshConnection
from clustermgr.remote.target import HostKey, SshCredentials, SshTarget
from polling import eventually
from sshd import PASSPHRASE, Connect, SshdHost, SshdLab, extra_sshd, keygen, unreachable

pytestmark = pytest.mark.integration


#: Kill the nearest sshd up the process tree: the one serving this connection.
KILL_OWN_SSHD = """
p=$$
while [ "${p:-0}" -gt 1 ] && [ "$(ps -o comm= -p "$p")" != sshd ]; do
    p=$(ps -o ppid= -p "$p" | tr -d ' ')
done
[ "${p:-0}" -gt 1 ] && kill -9 "$p"
"""


def keygen_fingerprint(pub: str) -> str:
    """The fingerprint as OpenSSH itself prints it: ``256 SHA256:... comment (ED25519)``."""
    out = subprocess.run(
        ["ssh-keygen", "-lf", pub], check=True, capture_output=True, text=True
    ).stdout
    return out.split()[1]


async def wait_until_gone(ssh: SshConnection, args: str, timeout: float = 10.0) -> None:
    """Poll ``ps`` on the server until no process has exactly these arguments."""

    async def gone() -> bool:
        listing = (await ssh.run(Command.of("ps", "-eo", "args="))).check().stdout
        return args not in {line.strip() for line in listing.splitlines()}

    await eventually(gone, timeout=timeout, what=f"`{args}` still runs on the server")


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A port whose connections are accepted by the kernel but never get an SSH banner."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


@pytest.fixture
async def remote_dir(ssh: SshConnection) -> AsyncIterator[str]:
    path = f"/tmp/clustermgr test {uuid.uuid4().hex}"
    (await ssh.run(Command.of("mkdir", path))).check()
    yield path
    await ssh.run(Command.of("rm", "-rf", path))


# --- running commands -------------------------------------------------------


async def test_run_returns_status_stdout_and_stderr(ssh: SshConnection) -> None:
    command = Command.script('echo "out $1"; echo "err $1" >&2', "a b")
    result = await ssh.run(command)
    assert (result.host, result.exit_status) == ("node1", 0)
    assert result.stdout == "out a b\n"
    assert result.stderr == "err a b\n"
    assert result.command == command
    assert result.duration > 0


async def test_nonzero_exit_status_is_returned_not_raised(ssh: SshConnection) -> None:
    result = await ssh.run(Command.script("echo failing >&2; exit 7"))
    assert result.exit_status == 7
    assert not result.ok
    assert result.stderr_tail() == "failing"


async def test_stdin_is_fed_and_closed(ssh: SshConnection) -> None:
    fed = await ssh.run(Command.of("cat", stdin=b"line one\nline two"))
    assert fed.stdout == "line one\nline two"
    # Without stdin the command sees EOF at once instead of hanging until the timeout.
    empty = await ssh.run(Command.of("cat"), timeout=5)
    assert (empty.exit_status, empty.stdout) == (0, "")


async def test_undecodable_output_is_replaced_not_fatal(ssh: SshConnection) -> None:
    result = await ssh.run(Command.of("printf", "\\377ok"))
    assert result.stdout == "\ufffdok"


async def test_one_ssh_connection_serves_every_command(ssh: SshConnection) -> None:
    # SSH_CONNECTION = "client_ip client_port server_ip server_port": one TCP connection
    # means one client port.
    seen = {
        (await ssh.run(Command.of("sh", "-c", "echo $SSH_CONNECTION"))).stdout for _ in range(5)
    }
    assert len(seen) == 1


async def test_more_commands_at_once_than_sshd_max_sessions(ssh: SshConnection) -> None:
    # OpenSSH allows 10 sessions per connection by default: the rest must queue, not fail.
    results = await asyncio.gather(*(ssh.run(Command.of("echo", str(n))) for n in range(25)))
    assert [r.stdout for r in results] == [f"{n}\n" for n in range(25)]


async def test_channels_refused_by_sshd_are_retried(node: SshdHost, open_ssh: Connect) -> None:
    # More at once than sshd's MaxSessions (10): the refused channels are retried.
    connection = await open_ssh(node, max_sessions=16)
    try:
        results = await asyncio.gather(
            *(connection.run(Command.of("echo", str(n))) for n in range(32))
        )
    finally:
        await connection.close()
    assert [r.stdout for r in results] == [f"{n}\n" for n in range(32)]


async def test_refused_channels_wait_for_our_own_however_long_they_run(
    node: SshdHost, open_ssh: Connect
) -> None:
    # sshd's 10 slots stay taken for longer than any fixed retry deadline: the
    # refused channels wait for ours to close instead of giving up.
    connection = await open_ssh(node, max_sessions=13)
    try:
        results = await asyncio.gather(
            *(connection.run(Command.of("sh", "-c", f"sleep 6; echo {n}")) for n in range(13))
        )
    finally:
        await connection.close()
    assert [r.stdout for r in results] == [f"{n}\n" for n in range(13)]


async def test_prefix_wraps_commands_but_results_show_the_original(ssh: SshConnection) -> None:
    ssh.set_prefix(("env", "CM_MARK=1"))
    command = Command.of("echo", Raw('"$CM_MARK"')).then(Command.of("echo", "after"))
    result = await ssh.run(command)
    # The && runs inside the prefix: both echoes see the variable's environment.
    assert result.stdout == "1\nafter\n"
    assert result.command == command
    ssh.set_prefix(())
    assert (await ssh.run(Command.of("printenv", "CM_MARK"))).exit_status == 1


# --- files --------------------------------------------------------------------


async def test_put_and_get_roundtrip_binary_data(ssh: SshConnection, remote_dir: str) -> None:
    data = bytes(range(256)) + b"\x00\x00 trailing NULs\x00"
    path = f"{remote_dir}/bin file"
    await ssh.put(path, data, mode=0o600)
    assert await ssh.get(path) == data
    mode = await ssh.run(Command.of("stat", "-c", "%a", path))
    assert mode.stdout.strip() == "600"


async def test_put_and_get_obey_the_prefix(ssh: SshConnection, remote_dir: str) -> None:
    ssh.set_prefix(("env", "CM_MARK=1"))
    try:
        await ssh.put(f"{remote_dir}/empty", b"")
        assert await ssh.get(f"{remote_dir}/empty") == b""
    finally:
        ssh.set_prefix(())


async def test_get_of_a_missing_file_raises_remote_file_not_found(
    ssh: SshConnection, remote_dir: str
) -> None:
    with pytest.raises(RemoteFileNotFound) as caught:
        await ssh.get(f"{remote_dir}/missing")
    assert str(caught.value) == f"node1: {remote_dir}/missing does not exist"


async def test_get_of_a_directory_is_a_command_failure(ssh: SshConnection, remote_dir: str) -> None:
    with pytest.raises(CommandFailed):
        await ssh.get(remote_dir)


# --- timeouts and dropped connections ------------------------------------------


async def test_command_timeout_stops_the_remote_command(ssh: SshConnection) -> None:
    started = time.monotonic()
    with pytest.raises(CommandTimeout) as caught:
        await ssh.run(Command.of("sleep", "30.123"), timeout=1)
    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert message.startswith("node1: `sleep 30.123` did not finish within 1 s")
    assert caught.value.hint
    await wait_until_gone(ssh, "sleep 30.123")
    # The connection survives a timed-out command.
    assert (await ssh.run(Command.of("echo", "still here"))).stdout == "still here\n"


async def test_command_timeout_stops_children_of_a_shell(ssh: SshConnection) -> None:
    # The shell stays the parent here (two commands), so only a signal to the whole
    # process group reaches the sleep.
    with pytest.raises(CommandTimeout):
        await ssh.run(Command.script("sleep 30.124; echo finished"), timeout=1)
    await wait_until_gone(ssh, "sleep 30.124")


async def test_a_dropped_connection_is_host_unreachable(node: SshdHost, open_ssh: Connect) -> None:
    connection = await open_ssh(node)
    try:
        # Kill the sshd process serving this session (the nearest sshd up the process
        # tree): the TCP connection goes away.
        with pytest.raises(HostUnreachable) as caught:
            await connection.run(Command.script(KILL_OWN_SSHD))
        assert "lost the SSH connection to 127.0.0.1:" in str(caught.value)
        with pytest.raises(HostUnreachable):
            await connection.run(Command.of("true"))
    finally:
        await connection.close()


async def test_close_is_idempotent(node: SshdHost, open_ssh: Connect) -> None:
    connection = await open_ssh(node)
    await connection.close()
    await connection.close()
    with pytest.raises(HostUnreachable, match="is closed"):
        await connection.run(Command.of("true"))


# --- host keys ------------------------------------------------------------------


async def test_host_key_fingerprint_matches_ssh_keygen(node: SshdHost) -> None:
    expected = keygen_fingerprint(str(node.host_key_pub))
    assert node.host_key.fingerprint == expected
    assert fingerprint(node.host_key_pub.read_text()) == expected
    scanned = await scan_host_key(node.target, timeout=5)
    assert scanned == node.host_key


async def test_unknown_host_key_is_never_trusted_blindly(node: SshdHost, open_ssh: Connect) -> None:
    with pytest.raises(HostKeyUnknown) as caught:
        await open_ssh(node, pinned=[])
    error = caught.value
    assert error.fingerprint == keygen_fingerprint(str(node.host_key_pub))
    assert error.algorithm == "ssh-ed25519"
    assert str(error) == f"node1: host key not trusted yet: ssh-ed25519 {error.fingerprint}"
    assert error.hint is not None and "ssh-keygen -lf" in error.hint


@pytest.mark.parametrize("pinned_type", ["ed25519", "rsa"])
async def test_changed_host_key_refuses_to_connect(
    sshds: SshdLab, node: SshdHost, open_ssh: Connect, pinned_type: str, tmp_path: Path
) -> None:
    # A pinned key of another type than the server's fails during the key
    # exchange rather than at verification: it must be reported the same way.
    if pinned_type == "ed25519":
        alien = sshds.alien_host_key
    else:
        alien = HostKey.from_openssh(keygen(tmp_path / "rsa_host_key", key_type="rsa").public)
    with pytest.raises(HostKeyChanged) as caught:
        await open_ssh(node, pinned=[alien])
    error = caught.value
    assert error.pinned == [alien.fingerprint]
    assert error.presented == node.host_key.fingerprint
    assert str(error).startswith("node1: HOST KEY CHANGED")
    assert node.host_key.fingerprint in str(error)


@pytest.mark.parametrize("pinned_type", ["ssh-ed25519", "ssh-rsa"])
async def test_a_changed_key_is_shown_beside_the_pinned_one_of_its_type(
    sshds: SshdLab, open_ssh: Connect, pinned_type: str, tmp_path: Path
) -> None:
    # The server has an RSA and an ED25519 key and both changed: the refusal
    # shows its new key of the pinned type, never another type it also has.
    with extra_sshd(sshds, tmp_path / "both", "both", ["rsa", "ed25519"]) as server:
        old = {
            "ssh-ed25519": sshds.alien_host_key,
            "ssh-rsa": HostKey.from_openssh(keygen(tmp_path / "old_rsa", key_type="rsa").public),
        }[pinned_type]
        with pytest.raises(HostKeyChanged) as caught:
            await open_ssh(server, pinned=[old])
    error = caught.value
    new = server.host_keys[pinned_type]
    assert (error.algorithm, error.presented) == (pinned_type, new.fingerprint)
    assert f"pinned {old}, server presents {new};" in str(error)
    assert error.hint is not None and "clustermgr server trust both --cluster" in error.hint


async def test_any_of_several_pinned_keys_is_accepted(
    sshds: SshdLab, node: SshdHost, open_ssh: Connect
) -> None:
    connection = await open_ssh(node, pinned=[sshds.alien_host_key, node.host_key])
    await connection.close()


# --- authentication ----------------------------------------------------------------


async def test_a_key_not_in_authorized_keys_is_refused(
    sshds: SshdLab, node: SshdHost, open_ssh: Connect
) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        await open_ssh(node, credentials=sshds.stranger_key.credentials())
    user = node.target.username
    assert str(caught.value) == (
        f"node1: SSH login as {user} refused: {node.target.endpoint} did not accept the private key"
    )
    assert caught.value.hint is not None and "authorized_keys" in caught.value.hint


async def test_wrong_passphrase_is_reported_without_the_passphrase(
    sshds: SshdLab, node: SshdHost, open_ssh: Connect
) -> None:
    wrong = "not-the-passphrase-9f3a"
    with pytest.raises(AuthenticationFailed) as caught:
        await open_ssh(node, credentials=sshds.encrypted_key.credentials(passphrase=wrong))
    error = caught.value
    assert str(error).startswith(f"node1: the SSH private key for {node.target.username}@")
    assert "passphrase" in str(error).lower()
    assert error.hint == "check the key's passphrase"
    for text in (str(error), repr(error), error.hint or ""):
        assert wrong not in text
        assert PASSPHRASE not in text


async def test_missing_passphrase_says_to_add_it(
    sshds: SshdLab, node: SshdHost, open_ssh: Connect
) -> None:
    credentials = SshCredentials(private_key=Secret(sshds.encrypted_key.private))
    with pytest.raises(AuthenticationFailed) as caught:
        await open_ssh(node, credentials=credentials)
    assert caught.value.hint == "the key is encrypted: add its passphrase to the credentials"


async def test_no_credentials_at_all(node: SshdHost, open_ssh: Connect) -> None:
    with pytest.raises(AuthenticationFailed, match="no SSH private key or password is set"):
        await open_ssh(node, credentials=SshCredentials())


async def test_secrets_never_show_in_errors_results_or_stderr_tail(
    sshds: SshdLab, node: SshdHost, open_ssh: Connect
) -> None:
    token = f"tok-{uuid.uuid4().hex}"
    connection = await open_ssh(node, credentials=sshds.encrypted_key.credentials())
    try:
        result = await connection.run(
            Command.script('echo "bad token $1" >&2; exit 3', Secret(token, "token"))
        )
        assert result.exit_status == 3
        with pytest.raises(CommandFailed) as failed:
            result.check()
        with pytest.raises(CommandTimeout) as timed_out:
            await connection.run(Command.script("sleep 30.125", Secret(token)), timeout=1)
    finally:
        await connection.close()
    assert result.stderr_tail() == f"bad token {MASK}"
    for text in (
        repr(result),
        result.stderr_tail(),
        str(failed.value),
        repr(failed.value),
        str(timed_out.value),
    ):
        assert token not in text
        assert PASSPHRASE not in text
    assert MASK in str(failed.value)


async def test_asyncssh_logs_show_commands_masked(
    ssh: SshConnection, caplog: pytest.LogCaptureFixture
) -> None:
    # A quote in the secret changes its shell-quoted form: plain text redaction misses it.
    secret = Secret(f"it's-{uuid.uuid4().hex}")
    with caplog.at_level(logging.DEBUG, logger="asyncssh"):
        result = await ssh.run(Command.of("echo", secret))
    assert result.stdout == f"{secret.reveal()}\n"
    assert f"Command: timeout -k 2 30.000 sh -c 'echo {MASK}'" in caplog.text
    assert "s-" + secret.reveal().split("-")[1] not in caplog.text


# --- unreachable servers --------------------------------------------------------------


@pytest.mark.parametrize("pinned", [True, False], ids=["pinned", "first-contact"])
async def test_closed_port_is_host_unreachable(
    node: SshdHost, open_ssh: Connect, pinned: bool
) -> None:
    ghost = unreachable(node)
    port = ghost.target.port
    with pytest.raises(HostUnreachable) as caught:
        await open_ssh(ghost, pinned=None if pinned else [])
    assert not isinstance(caught.value, ConnectTimeout)
    assert str(caught.value).startswith("ghost: ")
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "refused" in str(caught.value).lower()
    assert caught.value.hint is not None and "sshd is listening" in caught.value.hint


async def test_server_that_never_answers_is_connect_timeout(
    sshds: SshdLab, node: SshdHost, silent_listener: int
) -> None:
    from clustermgr.remote.ssh import connect

    target = SshTarget("mute", "127.0.0.1", silent_listener)
    started = time.monotonic()
    with pytest.raises(ConnectTimeout) as caught:
        await connect(
            target,
            sshds.client_key.credentials(),
            [node.host_key],
            connect_timeout=1,
            command_timeout=5,
        )
    assert time.monotonic() - started < 5
    assert str(caught.value) == (
        f"mute: could not connect to 127.0.0.1:{silent_listener} within 1 s"
    )


# --- many hosts --------------------------------------------------------------------------


async def test_run_on_hosts_reports_every_host(sshds: SshdLab, open_ssh: Connect) -> None:
    by_name = {host.target.name: host for host in sshds.hosts}
    ghost = unreachable(sshds.hosts[0])
    by_name["ghost"] = ghost
    opened: list[str] = []

    async def factory(name: str) -> Connection:
        opened.append(name)
        return await open_ssh(by_name[name])

    async with ConnectionPool(factory) as pool:

        async def port_of(name: str) -> str:
            connection = await pool.get(name)
            result = await connection.run(Command.of("sh", "-c", "echo $SSH_CONNECTION"))
            return result.check().stdout.split()[3]

        results = await run_on_hosts(["node1", "ghost", "node2", "node3"], port_of, limit=2)
        assert not results.ok
        assert list(results.succeeded) == ["node1", "node2", "node3"]
        assert results.succeeded == {h.target.name: str(h.target.port) for h in sshds.hosts}
        assert list(results.failed) == ["ghost"]
        assert isinstance(results.failed["ghost"], HostUnreachable)

        # Cached: asking again (even many at once) opens nothing new.
        again = await asyncio.gather(*(pool.get("node1") for _ in range(5)))
        assert len({id(c) for c in again}) == 1
        assert sorted(opened) == ["ghost", "node1", "node2", "node3"]


async def test_a_script_logs_as_one_line_and_a_long_one_shortened(
    ssh: SshConnection, caplog: pytest.LogCaptureFixture
) -> None:
    """A record per command, on one line: a script's lines never read as output."""
    body = "echo one\necho two\n" + "true\n" * 400
    with caplog.at_level(logging.INFO, logger="asyncssh"):
        result = await ssh.run(Command.script(body))
    assert result.stdout == "one\ntwo\n"
    # Only this command's record: other connections of the session log meanwhile.
    (logged,) = [
        m for r in caplog.records if "Command: " in (m := r.getMessage()) and "echo one" in m
    ]
    assert "\n" not in logged and "echo one\\necho two" in logged
    assert logged.endswith("…") and len(logged) < 1000
