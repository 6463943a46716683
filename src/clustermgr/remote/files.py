"""Reading and writing whole files with ordinary commands.

Files travel through :meth:`Connection.run` rather than SFTP so they obey the
connection's privilege prefix (``sudo -n``, ``chroot /opt/gluu-server``) exactly
like every other command, and so the scripted fake connection can serve them.

Reads come back base64-encoded: ``Result.stdout`` is text, and base64 keeps any
byte (NUL, invalid UTF-8) intact through it.  Writes send the bytes on stdin,
which is binary-safe as it is.

A file that does not exist is reported with its own exit status,
:data:`MISSING_EXIT_STATUS`, so "missing" is decided by status, never by
reading stderr.
"""

from __future__ import annotations

import base64
import binascii

from clustermgr.errors import RemoteFileNotFound
from clustermgr.redact import Secret
from clustermgr.remote.command import Command
from clustermgr.remote.connection import Connection

#: Exit status of :func:`read_file_command` when the file does not exist.
MISSING_EXIT_STATUS = 44

_READ_SCRIPT = f'test -e "$1" || exit {MISSING_EXIT_STATUS}; base64 < "$1"'
# umask first: the file must not be readable by others even for the moment
# between its creation and the chmod (it may hold a secret).
_WRITE_SCRIPT = 'umask 077 && cat > "$1" && chmod "$2" "$1"'


def read_file_command(path: str) -> Command:
    """Print ``path`` base64-encoded; exit :data:`MISSING_EXIT_STATUS` if it is missing."""
    return Command.script(_READ_SCRIPT, path)


def parse_read_output(stdout: str) -> bytes:
    """Decode the output of :func:`read_file_command` back to the file's bytes."""
    try:
        return base64.b64decode("".join(stdout.split()), validate=True)
    except binascii.Error as exc:
        raise ValueError(f"file content is not valid base64: {exc}") from None


def write_file_command(path: str, data: bytes | Secret, mode: int = 0o644) -> Command:
    """Write ``data`` (fed on stdin) to ``path`` and set its permission bits to ``mode``.

    Not atomic: the plan executor writes a temporary file and renames it.
    """
    if not 0 <= mode <= 0o7777:
        raise ValueError(f"file mode {mode:#o} is out of range")
    return Command.script(_WRITE_SCRIPT, path, f"{mode:04o}", stdin=data)


async def put_file(conn: Connection, path: str, data: bytes, mode: int = 0o644) -> None:
    """``Connection.put`` for connections that move files through ``run``."""
    (await conn.run(write_file_command(path, data, mode))).check()


async def get_file(conn: Connection, path: str) -> bytes:
    """``Connection.get`` for connections that move files through ``run``."""
    result = await conn.run(read_file_command(path))
    if result.exit_status == MISSING_EXIT_STATUS:
        raise RemoteFileNotFound(conn.host, f"{path} does not exist")
    return parse_read_output(result.check().stdout)
