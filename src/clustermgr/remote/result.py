"""The outcome of one command on one host."""

from __future__ import annotations

from dataclasses import dataclass

from clustermgr.errors import CommandFailed
from clustermgr.redact import redact
from clustermgr.remote.command import Command

STDERR_TAIL_LINES = 10


@dataclass(frozen=True)
class Result:
    host: str
    command: Command
    exit_status: int | None
    stdout: str
    stderr: str
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.exit_status == 0

    def stderr_tail(self, lines: int = STDERR_TAIL_LINES) -> str:
        """The last lines of stderr, with secrets masked (the held ones and the
        command's own): safe to show anywhere."""
        tail = self.stderr.strip().splitlines()[-lines:]
        return redact("\n".join(tail), *self.command.secrets())

    def check(self) -> Result:
        """Return self when the command succeeded, raise :class:`CommandFailed` otherwise."""
        if not self.ok:
            raise CommandFailed(
                self.host,
                self.command.masked(),
                self.exit_status,
                self.stderr_tail(),
                label=self.command.label(),
            )
        return self

    def __repr__(self) -> str:
        return (
            f"Result(host={self.host!r}, command={self.command.masked()!r}, "
            f"exit_status={self.exit_status})"
        )
