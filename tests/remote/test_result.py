"""A failed command as an error: a sentence in the message, the command in the details."""

from __future__ import annotations

import pytest

from clustermgr.errors import CommandFailed
from clustermgr.redact import MASK, Secret
from clustermgr.remote.command import Command
from clustermgr.remote.local import LocalConnection

SCRIPT = """\
set -e
printf 'dn: %s\\n' "$1" | cat >/dev/null
echo "warming up" >&2
echo "ldap_add: Insufficient access (50) for $1" >&2
exit 50
"""


async def test_a_failed_script_is_a_sentence_with_the_script_in_the_details() -> None:
    password = Secret.held("s3cret-in-the-args", label="pw")
    result = await LocalConnection("idp1.example.org").run(Command.script(SCRIPT, password))
    with pytest.raises(CommandFailed) as failed:
        result.check()
    error = failed.value
    assert error.message == (
        f"idp1.example.org: a shell script exited with status 50: "
        f"ldap_add: Insufficient access (50) for {MASK}"
    )
    assert "\n" not in error.message and "printf" not in error.message
    assert error.details is not None
    assert "cat >/dev/null" in error.details, "the whole command"
    assert "warming up" in error.details and "exit status: 50" in error.details
    assert "s3cret-in-the-args" not in error.details + error.message


async def test_a_long_stderr_line_is_cut_in_the_message_only() -> None:
    result = await LocalConnection("h").run(Command.script("printf '%0300d\\n' 7 >&2; exit 1"))
    with pytest.raises(CommandFailed) as failed:
        result.check()
    assert len(failed.value.message) < 260 and failed.value.message.endswith("…")
    assert "0" * 299 + "7" in (failed.value.details or "")
