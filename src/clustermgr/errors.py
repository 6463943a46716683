"""One hierarchy of domain errors, shared by every front end.

Services raise these; the CLI (and later the web app and the API) map them to an
exit status or an HTTP answer in one place.  Every message is meant for the
person at the keyboard: what happened, and what to do about it (``hint``).
Messages never contain secret values: they pass through :func:`redact`.
"""

from __future__ import annotations

from collections.abc import Sequence

from clustermgr.redact import redact


class ClustermgrError(Exception):
    """Base of every error clustermgr reports to a user."""

    #: Short machine-readable name, stable across versions (used in --json output).
    code = "error"

    def __init__(
        self, message: str, *, hint: str | None = None, details: str | None = None
    ) -> None:
        self.message = redact(message)
        self.hint = redact(hint) if hint else None
        #: The technical record behind the message (a command, its stderr), for the
        #: people who dig: an alert's details, a log line.  The message stays words.
        self.details = redact(details) if details else None
        super().__init__(self.message)

    def as_dict(self) -> dict[str, str | None]:
        return {"error": self.code, "message": self.message, "hint": self.hint}


# --- input ----------------------------------------------------------------


class InvalidInput(ClustermgrError):
    code = "invalid_input"


class NotFound(ClustermgrError):
    code = "not_found"


class AlreadyExists(ClustermgrError):
    code = "already_exists"


# --- storage --------------------------------------------------------------


class DatabaseError(ClustermgrError):
    code = "database_error"


class DatabaseLocked(DatabaseError):
    code = "database_locked"


class MigrationsMissing(DatabaseError):
    code = "migrations_missing"


class SeriesStoreUnavailable(ClustermgrError):
    """The external series store (VictoriaMetrics) does not answer: retry later."""

    code = "series_store_unavailable"


class SecretKeyError(ClustermgrError):
    code = "secret_key_error"


# --- remote ---------------------------------------------------------------


class RemoteError(ClustermgrError):
    """Something went wrong talking to a server."""

    code = "remote_error"

    def __init__(
        self, host: str, message: str, *, hint: str | None = None, details: str | None = None
    ) -> None:
        self.host = host
        super().__init__(f"{host}: {message}", hint=hint, details=details)


class DeliveryFailed(RemoteError):
    """A notification did not reach its relay or receiver."""

    code = "delivery_failed"


class HostUnreachable(RemoteError):
    code = "host_unreachable"


class ConnectTimeout(HostUnreachable):
    code = "connect_timeout"


class HostKeyUnknown(RemoteError):
    """First contact: the server's key is not pinned yet and needs explicit trust."""

    code = "host_key_unknown"

    def __init__(self, host: str, fingerprint: str, algorithm: str) -> None:
        self.fingerprint = fingerprint
        self.algorithm = algorithm
        super().__init__(
            host,
            f"host key not trusted yet: {algorithm} {fingerprint}",
            hint="compare the fingerprint with the server's own "
            "(ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) and trust it explicitly",
        )


#: How a person trusts a server's new host key, as refusals name it.
TRUST_COMMAND = "clustermgr server trust {host} --cluster CLUSTER"


class HostKeyChanged(RemoteError):
    """The server presents a key other than the pinned one: refuse to connect.

    ``pinned`` and ``presented`` are fingerprints; ``pinned_keys`` and
    ``presented_key`` the same with their algorithms (``ssh-ed25519 SHA256:...``)
    as the message shows them.
    """

    code = "host_key_changed"

    def __init__(
        self,
        host: str,
        pinned_keys: Sequence[tuple[str, str]],
        presented_key: tuple[str, str] | None,
    ) -> None:
        self.pinned = [fingerprint for _, fingerprint in pinned_keys]
        self.presented = presented_key[1] if presented_key else None
        self.algorithm = presented_key[0] if presented_key else None
        shown = " ".join(presented_key) if presented_key else "(could not be read)"
        super().__init__(
            host,
            f"HOST KEY CHANGED: pinned {', '.join(' '.join(k) for k in pinned_keys)}, "
            f"server presents {shown}; refusing to connect (a reinstalled server's new key "
            f"is trusted with `{TRUST_COMMAND.format(host=host)}`)",
            hint="if the server was reinstalled, compare the new key with the server's own "
            "(ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) and trust it with "
            f"`{TRUST_COMMAND.format(host=host)}` or the server's page in the web GUI; "
            "otherwise someone may be intercepting the connection",
        )


class HostKeyMismatch(RemoteError):
    """The server's key is not the one a person said to trust: nothing is trusted."""

    code = "host_key_mismatch"

    def __init__(self, host: str, given: str, presented_key: tuple[str, str]) -> None:
        self.given = given
        self.algorithm, self.presented = presented_key
        super().__init__(
            host,
            f"the server's key does not match the fingerprint you gave: you gave {given}, "
            f"the server presents {' '.join(presented_key)}",
            hint="compare with the server's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub): "
            "a typo, another server at that address, or someone intercepting the connection",
        )


class AuthenticationFailed(RemoteError):
    code = "authentication_failed"


class CommandTimeout(RemoteError):
    code = "command_timeout"


#: How much of stderr's last line a command failure's message quotes.
STDERR_IN_MESSAGE = 200


class CommandFailed(RemoteError):
    """A command exited non-zero.

    The message names the command by ``label`` (``ldapsearch``, "a shell
    script") and quotes stderr's last line: a sentence, however long the
    command.  The whole (masked) command and stderr's tail are in ``details``.
    """

    code = "command_failed"

    def __init__(
        self,
        host: str,
        command: str,
        exit_status: int | None,
        stderr_tail: str,
        *,
        label: str | None = None,
    ) -> None:
        self.command = command
        self.exit_status = exit_status
        self.stderr_tail = stderr_tail
        last = next((ln.strip() for ln in reversed(stderr_tail.splitlines()) if ln.strip()), "")
        if len(last) > STDERR_IN_MESSAGE:
            last = last[: STDERR_IN_MESSAGE - 1] + "…"
        said = f": {last}" if last else ""
        what = label or "a command"
        details = f"command: {command}\nexit status: {exit_status}"
        if stderr_tail:
            details += f"\nstderr:\n{stderr_tail}"
        super().__init__(host, f"{what} exited with status {exit_status}{said}", details=details)


class RemoteFileNotFound(RemoteError):
    code = "remote_file_not_found"


# --- operations -----------------------------------------------------------


class PreflightFailed(ClustermgrError):
    code = "preflight_failed"


class ApplyFailed(ClustermgrError):
    code = "apply_failed"


class JobConflict(ClustermgrError):
    """A second mutating job on a cluster: refused, never queued silently."""

    code = "job_conflict"


class LimitReached(ClustermgrError):
    """A bounded resource (active jobs, event streams) is in full use: retry later."""

    code = "limit_reached"


class NotAuthenticated(ClustermgrError):
    """No valid session (GUI) or token (API)."""

    code = "not_authenticated"


class CsrfRejected(ClustermgrError):
    """A state-changing request without the session's CSRF token."""

    code = "csrf_rejected"


class Forbidden(ClustermgrError):
    """The user's role does not allow this (see ``clustermgr.auth.roles``)."""

    code = "forbidden"


# --- authentication -------------------------------------------------------


class AuthError(ClustermgrError):
    """Someone could not be let in: front ends answer 401/403/429, never 500."""

    code = "auth_error"


class LoginFailed(AuthError):
    """Wrong user name, password or TOTP code: one message for all, so nothing leaks."""

    code = "login_failed"

    def __init__(self) -> None:
        super().__init__("wrong user name or password")


class LoginThrottled(AuthError):
    """Too many recent failures for this user name or client address."""

    code = "login_throttled"

    def __init__(self, retry_after: int) -> None:
        #: Seconds until a login may be tried again (for a Retry-After header).
        self.retry_after = retry_after
        minutes = max(1, -(-retry_after // 60))
        super().__init__(
            "too many failed logins",
            hint=f"try again in {minutes} min",
        )


class TotpRequired(AuthError):
    """The password was right; the user enrolled TOTP, so a code is needed too."""

    code = "totp_required"

    def __init__(self) -> None:
        super().__init__("a TOTP code is required", hint="enter the code from your app")


class SetupClosed(AuthError):
    """First-start setup is over (a user exists) or the setup token is wrong."""

    code = "setup_closed"

    def __init__(self) -> None:
        super().__init__(
            "setup is closed or the setup token is wrong",
            hint="log in with an existing account, or create one with "
            "`clustermgr admin create USER` on the manager's machine",
        )
