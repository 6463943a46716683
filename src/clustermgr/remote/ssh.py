"""The asyncssh implementation of :class:`~clustermgr.remote.connection.Connection`.

Everything a connection uses is explicit: the host keys come from the
inventory (pinned), the login from :class:`SshCredentials`.  Nothing is read
from the manager's ``~/.ssh`` (no config, no known_hosts, no default keys) and
no agent is used, so a connection behaves the same on a laptop, a server and in
CI, and a stray key on the manager can never log in somewhere by accident.

Each :class:`SshConnection` keeps one SSH connection open and opens a channel
per command on it: a plan runs hundreds of short commands and a handshake for
each would dominate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from contextvars import ContextVar

import asyncssh

from clustermgr.errors import (
    AuthenticationFailed,
    CommandTimeout,
    HostKeyChanged,
    HostKeyUnknown,
    HostUnreachable,
    RemoteError,
)
from clustermgr.redact import redact
from clustermgr.remote.command import Command
from clustermgr.remote.files import get_file, put_file
from clustermgr.remote.forward import read_to_end
from clustermgr.remote.hostkeys import (
    failure_reason,
    scan_host_key,
    scan_like_pinned,
    unreachable,
)
from clustermgr.remote.result import Result
from clustermgr.remote.sshstream import SshLineStream
from clustermgr.remote.target import HostKey, SshCredentials, SshTarget

#: Seconds between keepalives, and how many may go unanswered before the
#: connection counts as lost: a dead server is noticed in about a minute
#: instead of hanging a command until the TCP timeout.
KEEPALIVE_INTERVAL = 15.0
KEEPALIVE_COUNT_MAX = 4
#: Commands run at once on one connection, each in its own channel; more wait
#: their turn.  Below OpenSSH's default ``MaxSessions`` (10) because sshd frees a
#: slot only a moment after the channel closes.
MAX_SESSIONS = 8
#: Refused channels in a row, with none of our own commands' channels open, before
#: a refusal is reported: sshd allows fewer sessions than we use, or its slots
#: stay taken (by others, or by our streams).  While our own commands' channels are
#: open a refusal waits for one of them to close instead, however long that takes.
SESSION_REFUSALS = 12
#: Longest pause between two of those attempts, in seconds.
SESSION_PAUSE_MAX = 0.5
#: Seconds a timed-out command gets between TERM and KILL on the server.
KILL_AFTER = 2.0
#: Extra seconds we wait for a server that was told to stop a command to report it.
SERVER_SLACK = 3.0
#: Seconds a command gets to exit after each channel signal, when we stop it ourselves.
SIGNAL_GRACE = 2.0
#: A stream's program starts by saying its process id (the stream reads that line), so
#: :meth:`SshLineStream.close` can kill a program that ignores its closed stdin: a
#: channel signal cannot (OpenSSH refuses them for root logins).
_ANNOUNCE_PID = 'echo "$$" && exec sh -c "$1"'
#: Kill a process and its children (the children first: they would lose their parent).
_KILL_PID = 'pkill -KILL -P "$1" 2>/dev/null; kill -KILL "$1" 2>/dev/null; exit 0'
#: How a command stopped by ``timeout`` ends: 124 after TERM, 137 or -9 (killed
#: along with its process group) after KILL.
_TIMEOUT_STATUSES = frozenset({124, 137, -9})

_SSH_PROCESS = asyncssh.SSHClientProcess[bytes]

#: How a connection attempt ends when the server breaks off the key exchange.
#: (Not ConnectionRefusedError: then nothing listens and there is no key to check.)
_BROKEN_OFF = (
    asyncssh.KeyExchangeFailed,
    asyncssh.ConnectionLost,
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
)


#: The masked text of the command this task is starting, for :class:`_MaskCommands`.
_starting: ContextVar[str | None] = ContextVar("clustermgr_ssh_starting", default=None)


#: How much of a command a log record shows (a probe's script runs to many kilobytes).
_LOGGED_COMMAND = 500


class _MaskCommands(logging.Filter):
    """Keep secrets out of asyncssh's own log records.

    asyncssh logs every command it starts at INFO level, as sent: rendered,
    secrets included and shell-quoted (so a secret containing a quote would
    slip past :func:`redact`).  The record gets the command's masked text
    instead, and every other asyncssh record goes through :func:`redact`.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        masked = _starting.get()
        if masked is not None and str(record.msg).endswith("Command: %s"):
            shown = masked if len(masked) <= _LOGGED_COMMAND else masked[:_LOGGED_COMMAND] + "…"
            record.args = (shown,)
        with contextlib.suppress(TypeError, ValueError):  # a malformed record stays as is
            # One record, one line: a script's lines would read as output of their own.
            record.msg = redact(record.getMessage()).replace("\n", "\\n")
            record.args = ()
        return True


logging.getLogger("asyncssh").addFilter(_MaskCommands())


class SshConnection:
    """One open SSH connection to one server; commands run on it one channel each.

    ``prefix`` is the privilege prefix every command runs through (for example
    ``("sudo", "-n")`` or ``("chroot", "/opt/gluu-server")``); file reads and
    writes go through :meth:`run` and so obey it too.
    """

    def __init__(
        self,
        target: SshTarget,
        ssh: asyncssh.SSHClientConnection,
        *,
        command_timeout: float,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        self.target = target
        self.command_timeout = command_timeout
        self.max_sessions = max_sessions
        self.prefix: tuple[str, ...] = ()
        self._sessions = asyncio.Semaphore(max_sessions)
        #: Our channels open now; ``_release`` is set when the next one closes.
        self._open_channels = 0
        #: Those of them held by streams, which close only when their caller says.
        self._stream_channels = 0
        self._release = asyncio.Event()
        self._ssh = ssh
        self._closed = False

    @property
    def host(self) -> str:
        return self.target.name

    def set_prefix(self, prefix: Sequence[str]) -> None:
        self.prefix = tuple(prefix)

    async def run(self, command: Command, *, timeout: float | None = None) -> Result:
        """Run ``command``; a non-zero exit status is returned, never raised.

        Raises :class:`CommandTimeout` when the command runs longer than
        ``timeout`` seconds (default: the connection's ``command_timeout``),
        after stopping it on the server, and :class:`HostUnreachable` when the
        connection drops.
        """
        limit = self.command_timeout if timeout is None else timeout
        if self._closed:
            raise HostUnreachable(self.host, f"the connection to {self.target.endpoint} is closed")
        async with self._sessions:
            started = time.monotonic()
            process = await self._start(command, _deadlined(command, self.prefix, limit))
            try:
                stdout, stderr = await self._communicate(command, process, limit)
            finally:
                self._channel_released()
        duration = time.monotonic() - started
        returncode = process.returncode
        if returncode is None and self._ssh.is_closed():
            raise self._lost(command, None)
        if returncode in _TIMEOUT_STATUSES and duration >= limit:
            raise self._timed_out(command, limit)
        return Result(
            host=self.host,
            command=command,
            exit_status=returncode,
            stdout=stdout.decode("utf-8", errors="replace"),
            stderr=stderr.decode("utf-8", errors="replace"),
            duration=duration,
        )

    async def put(self, path: str, data: bytes, *, mode: int = 0o644) -> None:
        """Write ``data`` to ``path`` (not atomically: the executor makes it atomic)."""
        await put_file(self, path, data, mode)

    async def get(self, path: str) -> bytes:
        """Read ``path`` exactly; :class:`RemoteFileNotFound` when it does not exist."""
        return await get_file(self, path)

    async def stream(self, command: Command, stdin: bytes = b"") -> SshLineStream:
        """Start ``command`` through the prefix (with no deadline), write ``stdin`` to it
        and keep its stdin open: its output line by line (:mod:`.stream`).

        The program holds one of the connection's session slots until the stream is
        closed.  :class:`HostUnreachable` when the connection is lost.
        """
        if self._closed:
            raise HostUnreachable(self.host, f"the connection to {self.target.endpoint} is closed")
        executed = Command((*self.prefix, "sh", "-c", _ANNOUNCE_PID, "sh", command))
        await self._sessions.acquire()
        try:
            process = await self._start(command, executed, keep_stdin=True)
        except BaseException:
            self._sessions.release()
            raise

        self._stream_channels += 1

        def release() -> None:
            self._stream_channels -= 1
            self._channel_released()
            self._sessions.release()

        async def kill(pid: int) -> None:
            with contextlib.suppress(RemoteError, TimeoutError):
                async with asyncio.timeout(SIGNAL_GRACE + SERVER_SLACK):
                    await self.run(Command.script(_KILL_PID, str(pid)), timeout=SIGNAL_GRACE)

        lines = SshLineStream(
            self.host,
            command,
            process,
            lost=self._lost,
            connection_closed=self._ssh.is_closed,
            release=release,
            kill=kill,
        )
        try:
            await lines.start(self.command_timeout)
            process.stdin.write(stdin)
            await process.stdin.drain()
        except (OSError, asyncssh.Error) as exc:
            if self._ssh.is_closed():
                await lines.close()
                raise self._lost(command, exc) from None
            # The channel ended before its input went: its output and status tell why.
        except BaseException:
            await lines.close()
            raise
        return lines

    async def exchange(self, port: int, request: bytes, *, timeout: float) -> bytes:
        """Send ``request`` to ``127.0.0.1:port`` as the server sees it, through a
        direct-tcpip channel of this connection; the answer until the port closes it.

        :class:`RemoteError` when nothing listens there (or sshd forwards nothing),
        :class:`CommandTimeout` past ``timeout``, :class:`HostUnreachable` when the
        connection is lost.
        """
        what = f"127.0.0.1:{port}"
        if self._closed:
            raise HostUnreachable(self.host, f"the connection to {self.target.endpoint} is closed")
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await self._ssh.open_connection("127.0.0.1", port)
                try:
                    writer.write(request)
                    return await read_to_end(reader)
                finally:
                    writer.close()
        except TimeoutError:
            raise CommandTimeout(self.host, f"{what} did not answer within {timeout:g} s") from None
        except (OSError, asyncssh.Error) as exc:
            if self._ssh.is_closed():
                raise HostUnreachable(
                    self.host,
                    f"lost the SSH connection to {self.target.endpoint} while reading {what}: "
                    f"{failure_reason(exc)}",
                ) from None
            raise RemoteError(self.host, f"{what}: {failure_reason(exc)}") from None

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._ssh.close()
        await self._ssh.wait_closed()

    async def __aenter__(self) -> SshConnection:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _start(
        self, command: Command, executed: Command, *, keep_stdin: bool = False
    ) -> _SSH_PROCESS:
        """Open a channel and start ``executed`` in it (``keep_stdin``: with its stdin
        open for the caller to write, instead of fed the command's own stdin).

        sshd refuses a channel when its ``MaxSessions`` slots are taken, and
        frees a slot only a moment after a channel closes.  A refused channel
        waits for one of this connection's own commands to end and tries
        again; with none open it retries after a growing pause, and gives up
        after :data:`SESSION_REFUSALS` refusals in a row.  Nothing depends on
        wall time, so a slow machine or long commands never turn a wait into
        a failure.
        """
        refusals = 0
        pause = 0.02
        while True:
            released = self._release
            token = _starting.set(executed.masked())
            try:
                process: _SSH_PROCESS
                if keep_stdin:
                    process = await self._ssh.create_process(executed.render(), encoding=None)
                else:
                    process = await self._ssh.create_process(
                        executed.render(),
                        input=executed.stdin_bytes() or None,
                        # Without input stdin is at EOF at once, so a command that reads
                        # stdin ends instead of waiting for the timeout.
                        stdin=asyncio.subprocess.DEVNULL,
                        encoding=None,
                    )
                self._open_channels += 1
                return process
            except asyncssh.ChannelOpenError as exc:
                if self._ssh.is_closed():
                    raise self._lost(command, exc) from None
                refused = exc
            except (OSError, asyncssh.Error) as exc:
                raise self._lost(command, exc) from None
            finally:
                _starting.reset(token)
            if self._open_channels > self._stream_channels:
                # One of our commands holds a slot: its close frees one (a stream's
                # ends only when its caller closes it, which may be never).
                refusals, pause = 0, 0.02
                await released.wait()
                continue
            refusals += 1
            if refusals >= SESSION_REFUSALS:
                raise self._refused(command, refused)
            await asyncio.sleep(pause)
            pause = min(pause * 2, SESSION_PAUSE_MAX)

    def _channel_released(self) -> None:
        """Wake the channels waiting for a slot: every one that was refused before now."""
        self._open_channels -= 1
        self._release.set()
        self._release = asyncio.Event()

    def _refused(self, command: Command, exc: asyncssh.ChannelOpenError) -> HostUnreachable:
        return HostUnreachable(
            self.host,
            f"{self.target.endpoint} refused a session for `{command.masked()}`: "
            f"{failure_reason(exc)}",
            hint=f"clustermgr runs up to {self.max_sessions} commands at once on one "
            "connection: check MaxSessions in the server's sshd_config",
        )

    async def _communicate(
        self, command: Command, process: _SSH_PROCESS, limit: float
    ) -> tuple[bytes, bytes]:
        try:
            # The server stops the command at ``limit``; waiting longer here only
            # covers a server that cannot (a process stuck in the kernel, a stalled
            # network).
            return await asyncio.wait_for(process.communicate(), limit + KILL_AFTER + SERVER_SLACK)
        except TimeoutError:
            await _stop(process)
            raise self._timed_out(command, limit) from None
        except asyncio.CancelledError:
            _abandon(process)
            raise
        except (OSError, asyncssh.Error) as exc:
            raise self._lost(command, exc) from None

    def _timed_out(self, command: Command, limit: float) -> CommandTimeout:
        return CommandTimeout(
            self.host,
            f"`{command.masked()}` did not finish within {limit:g} s and was stopped",
            hint="raise the timeout if the command is only slow; otherwise find out what "
            "it waits for (input, a lock, the network)",
        )

    def _lost(self, command: Command, exc: BaseException | None) -> HostUnreachable:
        reason = f": {failure_reason(exc)}" if exc is not None else ""
        return HostUnreachable(
            self.host,
            f"lost the SSH connection to {self.target.endpoint} while running "
            f"`{command.masked()}`{reason}",
            hint="check that the server is still up; the command may or may not have run",
        )


def _deadlined(command: Command, prefix: Sequence[str], limit: float) -> Command:
    """``command`` run through ``prefix`` under coreutils ``timeout``.

    The server enforces the deadline itself because a channel signal cannot:
    OpenSSH refuses them for root logins (no privilege separation after login),
    and closing the channel leaves a quiet command such as ``sleep`` running.
    ``timeout`` puts the command in its own process group and signals the whole
    group (TERM, then KILL after :data:`KILL_AFTER` s), so a shell's children
    stop too.  It stands outside the prefix so it also stops ``sudo`` (which
    relays the signal) and ``chroot``.
    """
    return command.wrapped(("timeout", "-k", f"{KILL_AFTER:g}", f"{limit:.3f}", *prefix))


async def _stop(process: _SSH_PROCESS) -> None:
    """Stop a command the server did not stop in time: TERM, KILL, then close the channel.

    OpenSSH delivers channel signals to the command's process group, but only
    for non-root logins; closing the channel is all we can do otherwise.
    """
    for signal in ("TERM", "KILL"):
        try:
            process.send_signal(signal)
        except OSError:  # the channel is already closed: nothing left to stop
            return
        try:
            await asyncio.wait_for(process.wait_closed(), SIGNAL_GRACE)
            return
        except TimeoutError:
            continue
    process.close()


def _abandon(process: _SSH_PROCESS) -> None:
    """Best effort when the caller is cancelled: no waiting allowed, so signal and close."""
    with contextlib.suppress(OSError):
        process.send_signal("TERM")
    process.close()


async def connect(
    target: SshTarget,
    credentials: SshCredentials,
    pinned: Sequence[HostKey],
    *,
    connect_timeout: float,
    command_timeout: float,
    max_sessions: int = MAX_SESSIONS,
) -> SshConnection:
    """Open an SSH connection that accepts only the ``pinned`` host keys.

    With nothing pinned it never logs in: it reads the key the server presents
    and raises :class:`HostKeyUnknown` with its fingerprint, for a person to
    trust explicitly.  ``max_sessions`` caps the commands run at once (lower it
    for a server whose sshd ``MaxSessions`` is below the default).
    """
    if not pinned:
        presented = await scan_host_key(target, timeout=connect_timeout)
        raise HostKeyUnknown(target.name, presented.fingerprint, presented.algorithm)
    client_keys = _client_keys(target, credentials)
    password = credentials.password.reveal() if credentials.password else None
    if not client_keys and password is None:
        raise AuthenticationFailed(
            target.name,
            f"no SSH private key or password is set for {target.username}@{target.endpoint}",
            hint="add the server's SSH credentials to the inventory",
        )
    try:
        ssh = await asyncssh.connect(
            target.address,
            target.port,
            username=target.username,
            # The tuple form (trusted host keys, trusted CA keys, revoked keys)
            # matches regardless of host name or address.
            known_hosts=([key.to_ssh_key() for key in pinned], [], []),
            client_keys=client_keys or None,
            password=password,
            connect_timeout=connect_timeout,
            keepalive_interval=KEEPALIVE_INTERVAL,
            keepalive_count_max=KEEPALIVE_COUNT_MAX,
            request_pty=False,
            # Nothing from the manager's own SSH setup: no ~/.ssh/config, no agent,
            # no ~/.ssh/ca-bundle.crt or ~/.ssh/crt, no host-based, Kerberos or
            # keyboard-interactive logins.
            config=None,
            agent_path=None,
            agent_forwarding=False,
            x509_trusted_certs=None,
            x509_trusted_cert_paths=[],
            host_based_auth=False,
            gss_kex=False,
            gss_auth=False,
            kbdint_auth=False,
        )
    except asyncssh.HostKeyNotVerifiable:
        raise await _host_key_changed(target, pinned, connect_timeout) from None
    except _BROKEN_OFF as exc:
        # The pinned keys' types also limit the host keys we accept, so a server
        # that now has only another type of key ends the key exchange: we see
        # KeyExchangeFailed, or (when the server notices first) a lost or reset
        # connection.
        raise await _host_key_changed(target, pinned, connect_timeout, exc) from None
    except asyncssh.PermissionDenied:
        raise _login_refused(target, credentials) from None
    except (OSError, asyncssh.Error) as exc:
        raise unreachable(target, exc, connect_timeout, "connect to") from None
    return SshConnection(target, ssh, command_timeout=command_timeout, max_sessions=max_sessions)


def _client_keys(target: SshTarget, credentials: SshCredentials) -> list[asyncssh.SSHKey]:
    if credentials.private_key is None:
        return []
    passphrase = credentials.passphrase.reveal() if credentials.passphrase else None
    try:
        return [asyncssh.import_private_key(credentials.private_key.reveal(), passphrase)]
    except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError) as exc:
        if credentials.passphrase is None and "passphrase" in str(exc).lower():
            hint = "the key is encrypted: add its passphrase to the credentials"
        elif isinstance(exc, asyncssh.KeyEncryptionError) or credentials.passphrase:
            hint = "check the key's passphrase"
        else:
            hint = "paste the whole private key, including its BEGIN and END lines"
        raise AuthenticationFailed(
            target.name,
            f"the SSH private key for {target.username}@{target.endpoint} cannot be used: {exc}",
            hint=hint,
        ) from None


def _login_refused(target: SshTarget, credentials: SshCredentials) -> AuthenticationFailed:
    offered = [
        name
        for name, present in (
            ("private key", credentials.private_key),
            ("password", credentials.password),
        )
        if present
    ]
    return AuthenticationFailed(
        target.name,
        f"SSH login as {target.username} refused: {target.endpoint} did not accept "
        f"the {' or the '.join(offered)}",
        hint=f"check that the key's public half is in ~{target.username}/.ssh/authorized_keys "
        f"on the server and that sshd lets {target.username} log in",
    )


async def _host_key_changed(
    target: SshTarget,
    pinned: Sequence[HostKey],
    connect_timeout: float,
    failure: Exception | None = None,
) -> RemoteError:
    """Build the error for a server whose key is not one of ``pinned``.

    The connection attempt does not tell which key the server showed, so scan
    again for a key of a pinned type: that shows the key that replaced the
    pinned one, to compare like with like.  With ``failure`` (the key exchange
    broke off) the key is only a suspect: when the server still shows a pinned
    key, the failure is reported as it is.
    """
    pinned_fingerprints = [key.fingerprint for key in pinned]
    presented: HostKey | None
    try:
        presented = await scan_like_pinned(target, pinned, timeout=connect_timeout)
    except HostUnreachable:
        presented = None
    if failure is not None and (presented is None or presented.fingerprint in pinned_fingerprints):
        # The key is not the problem (or cannot be read): report the failure itself.
        return unreachable(target, failure, connect_timeout, "connect to")
    return HostKeyChanged(
        target.name,
        [(key.algorithm, key.fingerprint) for key in pinned],
        (presented.algorithm, presented.fingerprint) if presented else None,
    )
