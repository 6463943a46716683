"""Command values: quoting, composition and secret masking.

Quoting is checked two ways: the rendered text splits back into the original
parts (``shlex``), and a real ``/bin/sh`` receives exactly those arguments.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from clustermgr.redact import MASK, Secret, redact
from clustermgr.remote.command import Command, Raw

TRICKY = [
    "plain",
    "two words",
    "it's",
    'say "hi"',
    "$HOME",
    "`id`",
    "$(touch pwned)",
    "a;b|c&&d>e",
    "line one\nline two",
    "tab\there",
    "",
    "*",
    "-n",
    "back\\slash",
    "ünïcödé",
]


def sh_args(command: Command, cwd: Path) -> list[str]:
    """Run ``printf '%s\\0' PARTS...`` in /bin/sh and return the arguments it received."""
    out = subprocess.run(
        ["/bin/sh", "-c", command.render()],
        cwd=cwd,
        capture_output=True,
        check=True,
        input=command.stdin_bytes(),
    ).stdout
    return out.decode().split("\0")[:-1]


def printf_args(*parts: str | Secret | Raw | Command) -> Command:
    return Command.of("printf", "%s\\0", *parts)


@pytest.mark.parametrize("arg", TRICKY)
def test_tricky_args_render_as_one_literal_word(arg: str, tmp_path: Path) -> None:
    command = Command.of("echo", arg)
    assert shlex.split(command.render()) == ["echo", arg]
    assert sh_args(printf_args(arg), tmp_path) == [arg]
    assert not (tmp_path / "pwned").exists()


def test_all_tricky_args_at_once(tmp_path: Path) -> None:
    assert sh_args(printf_args(*TRICKY), tmp_path) == TRICKY


def test_raw_parts_are_shell_syntax() -> None:
    command = Command.of("echo", "a b", Raw("&&"), "echo", Raw('"$HOME"'))
    assert command.render() == "echo 'a b' && echo \"$HOME\""


def test_then_and_pipe_compose(tmp_path: Path) -> None:
    command = (
        Command.of("printf", "x y\\n")
        .pipe(Command.of("tr", "x", "z"))
        .then(Command.of("echo", "done; really"))
    )
    assert command.render() == "printf 'x y\\n' | tr x z && echo 'done; really'"
    out = subprocess.run(["/bin/sh", "-c", command.render()], capture_output=True, text=True)
    assert out.stdout == "z y\ndone; really\n"


def test_a_command_needs_parts() -> None:
    with pytest.raises(ValueError):
        Command.of()


def test_wrapped_runs_shell_syntax_inside_the_prefix(tmp_path: Path) -> None:
    inner = Command.of("printf", "%s\\n", Raw('"$MARK"')).then(Command.of("echo", "it's $HOME"))
    command = inner.wrapped(("env", "MARK=inside"))
    assert command.parts[:4] == ("env", "MARK=inside", "sh", "-c")
    out = subprocess.run(["/bin/sh", "-c", command.render()], capture_output=True, text=True)
    assert out.stdout == "inside\nit's $HOME\n"


def test_nested_wrapped_commands_keep_tricky_args(tmp_path: Path) -> None:
    # Two levels, like ``sudo -n`` around ``chroot DIR``: quotes inside quotes.
    command = printf_args(*TRICKY).wrapped(("env", "A=1")).wrapped(("env", "B=2"))
    assert sh_args(command, tmp_path) == TRICKY
    assert not (tmp_path / "pwned").exists()


def test_wrapped_keeps_stdin() -> None:
    command = Command.of("cat", stdin=b"data").wrapped(("env",))
    assert command.stdin_bytes() == b"data"


def test_script_arguments_are_quoted_positional_parameters(tmp_path: Path) -> None:
    command = Command.script('printf "%s\\0" "$@"', *TRICKY)
    assert sh_args(command, tmp_path) == TRICKY
    assert not (tmp_path / "pwned").exists()


def test_script_body_is_one_argument() -> None:
    command = Command.script('test -e "$1" && cat "$1"', "/etc/my file")
    assert shlex.split(command.render()) == [
        "sh",
        "-c",
        'test -e "$1" && cat "$1"',
        "sh",
        "/etc/my file",
    ]


# --- secrets ---------------------------------------------------------------------

PASSWORD = "hunter2-$ecret 'quoted'"


def test_secret_is_masked_everywhere_but_render(tmp_path: Path) -> None:
    secret = Secret(PASSWORD, "ldap_password")
    command = Command.of("ldapsearch", "-w", secret, "-x")
    for shown in (str(command), repr(command), command.masked(), repr(secret), str(secret)):
        assert PASSWORD not in shown
    assert command.masked() == f"ldapsearch -w {MASK} -x"
    assert repr(command) == f"Command('ldapsearch -w {MASK} -x')"
    assert shlex.split(command.render()) == ["ldapsearch", "-w", PASSWORD, "-x"]
    assert sh_args(printf_args(secret), tmp_path) == [PASSWORD]


def test_secret_in_f_string_is_masked() -> None:
    secret = Secret(PASSWORD)
    assert f"password={secret}" == f"password={MASK}"


def test_secret_in_nested_and_script_commands_is_masked(tmp_path: Path) -> None:
    secret = Secret(PASSWORD)
    command = Command.script('printf "%s\\0" "$1"', secret).wrapped(("env", "A=1"))
    assert PASSWORD not in command.masked()
    assert PASSWORD not in repr(command)
    assert command.secrets() == [secret]
    assert sh_args(command, tmp_path) == [PASSWORD]


def test_secret_stdin_is_revealed_only_to_the_process() -> None:
    secret = Secret(PASSWORD)
    command = Command.of("cat", stdin=secret)
    assert command.stdin_bytes() == PASSWORD.encode()
    assert PASSWORD not in repr(command)
    assert command.secrets() == [secret]


def test_redact_scrubs_secrets_from_free_text() -> None:
    secret = Secret.held("s3cr3t-token-0042")
    text = f"error: token {secret.reveal()} rejected (token was {secret.reveal()})"
    assert redact(text) == f"error: token {MASK} rejected (token was {MASK})"


def test_redact_scrubs_lines_of_multiline_secrets() -> None:
    key = "-----BEGIN KEY-----\nAAAAB3NzaC1yc2EAAAADAQABAAABAQC7\n-----END KEY-----"
    Secret.held(key, "private_key")
    assert redact("bad line: AAAAB3NzaC1yc2EAAAADAQABAAABAQC7") == f"bad line: {MASK}"


def test_redact_leaves_short_values_alone() -> None:
    Secret.held("ab")
    assert redact("tab and cab") == "tab and cab"


@pytest.mark.parametrize(
    ("command", "label"),
    [
        (Command.of("ldapsearch", "-H", "ldapi:///"), "`ldapsearch`"),
        (Command.of("/usr/sbin/slapcat", "-n0"), "`slapcat`"),
        (Command.script("set -e\nldapadd -H ldapi:///\n", "x"), "a shell script"),
        (Command.of("python3", "-c", "import json\nprint(1)\n"), "a Python script"),
        (Command.script("ldapadd x").wrapped(("sudo", "-n")), "a shell script"),
        (Command.of("nginx", "-t").wrapped(("sudo", "-n")), "`nginx`"),
        (Command.of("systemctl", "is-active", "x").then(Command.of("true")), "`systemctl`"),
    ],
)
def test_label_names_a_command_in_a_few_words(command: Command, label: str) -> None:
    assert command.label() == label
