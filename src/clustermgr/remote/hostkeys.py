"""Learning a server's host key before trusting it.

Pinning works in two steps: on first contact we only *read* the key the server
presents (no login, nothing sent but the key exchange) and show its fingerprint;
a person compares it with the server's own and trusts it explicitly.  From then
on :func:`clustermgr.remote.ssh.connect` accepts that key and no other.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence

import asyncssh

from clustermgr.errors import ConnectTimeout, HostUnreachable
from clustermgr.remote.target import HostKey, SshTarget

UNREACHABLE_HINT = (
    "check the address and port, that the server is up and sshd is listening, "
    "and that no firewall blocks the manager"
)


def fingerprint(public_key: str) -> str:
    """The SHA256 fingerprint of an OpenSSH public key line, as ``ssh-keygen -l`` shows it."""
    return HostKey.from_openssh(public_key).fingerprint


async def scan_host_key(
    target: SshTarget, *, timeout: float, algorithms: Sequence[str] = ()
) -> HostKey:
    """Return the host key ``target`` presents during the key exchange.

    ``algorithms`` limits the host key types the server may choose from (by
    default asyncssh's usual preference order).  Nothing from ``~/.ssh`` is
    consulted and no authentication is attempted.
    """
    # Nothing from the manager's ~/.ssh: its config must not redirect the scan
    # (HostName, ProxyJump, HostKeyAlgorithms...) and its keys are not needed.
    options = asyncssh.SSHClientConnectionOptions(
        config=None,
        connect_timeout=timeout,
        client_keys=None,
        agent_path=None,
        x509_trusted_certs=None,
        x509_trusted_cert_paths=[],
        gss_kex=False,
        gss_auth=False,
    )
    try:
        # The algorithms go in the call itself: its own default would replace
        # the options' choice.
        key = await asyncssh.get_server_host_key(
            target.address,
            target.port,
            config=None,
            server_host_key_algs=list(algorithms) or (),
            options=options,
        )
    except (OSError, asyncssh.Error) as exc:
        raise unreachable(target, exc, timeout, "read the SSH host key of") from None
    if key is None:
        # Only possible with GSS key exchange, which we disable.
        raise HostUnreachable(
            target.name, f"{target.endpoint} presented no host key during the key exchange"
        )
    return HostKey.from_ssh_key(key)


async def scan_like_pinned(
    target: SshTarget, pinned: Sequence[HostKey], *, timeout: float
) -> HostKey:
    """The key ``target`` presents, of a pinned key's type when it still has one.

    A server has keys of several types: asking for the pinned types shows the
    key that replaced the pinned one, which is the one to compare, rather than
    whichever type the server prefers.  A server left with no key of those
    types shows its preferred key.
    """
    algorithms = signature_algorithms(pinned)
    if algorithms:
        try:
            return await scan_host_key(target, timeout=timeout, algorithms=algorithms)
        except HostUnreachable:
            pass  # no key of the pinned types (or gone: the next scan says which)
    return await scan_host_key(target, timeout=timeout)


def signature_algorithms(pinned: Sequence[HostKey]) -> list[str]:
    """Host key algorithms to ask for, given the pinned key types.

    An ``ssh-rsa`` key is negotiated as ``rsa-sha2-*``: modern sshd refuses the
    SHA-1 ``ssh-rsa`` signature.
    """
    algorithms: list[str] = []
    for key in pinned:
        names = (
            ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]
            if key.algorithm == "ssh-rsa"
            else [key.algorithm]
        )
        algorithms.extend(name for name in names if name not in algorithms)
    return algorithms


def unreachable(
    target: SshTarget, exc: BaseException, timeout: float, doing: str
) -> HostUnreachable:
    """The error for a connection that failed before login: timed out, or why not."""
    if isinstance(exc, TimeoutError):  # an OSError too: decided first
        return ConnectTimeout(
            target.name,
            f"could not {doing} {target.endpoint} within {timeout:g} s",
            hint=UNREACHABLE_HINT,
        )
    return HostUnreachable(
        target.name,
        f"cannot {doing} {target.endpoint}: {failure_reason(exc)}",
        hint=UNREACHABLE_HINT,
    )


def failure_reason(exc: BaseException) -> str:
    """A short reason for a failed connection: ``Connection refused``, not asyncio's wording."""
    if isinstance(exc, asyncssh.Error):
        return exc.reason or type(exc).__name__
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the address ({exc.strerror})"
    if isinstance(exc, OSError) and exc.errno:
        # asyncio's "Connect call failed (addr)" hides the errno's own text.
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__
