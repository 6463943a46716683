"""What a host's steps find, read in one round trip: their files' hashes and checks.

Deciding a step alone costs one round trip per file it writes and one for its check.
A probe asks all of it for many steps at once: one shell script prints, for every file,
the SHA-256 of what is there now (or ``-`` when there is none) and, for every check,
its exit status.  The executor decides unchanged steps from it without another round
trip, and knows a missing file without reading it; a file whose hash differs is
read before its diff is shown, so a probe never makes a step look changed that is not.

A check's input travels to it as an argument; a check whose input is a secret (never
put on a command line) is left out of the probe and decided alone.  Output the parser
does not understand leaves that step out too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from clustermgr.plan.model import Step
from clustermgr.remote.command import Command

#: Prints the SHA-256 of the file named by ``$1``, or ``-`` when there is none.
_HASH = 'h() { if [ -e "$1" ]; then sha256sum < "$1" | cut -c1-64; else echo -; fi; }'


@dataclass(frozen=True)
class Probed:
    """One step as the probe found it."""

    #: The paths whose content is already the desired content.
    matching: frozenset[str]
    #: The paths where there is no file yet.
    missing: frozenset[str]
    #: Whether its check exited 0; None when the step has no check.
    check_passed: bool | None

    def unchanged(self, step: Step) -> bool:
        """The step has nothing to do: every file matches, and its check passes (a step
        without a check is done when it has files and they all match)."""
        if any(change.path not in self.matching for change in step.files):
            return False
        if step.check is None:
            return bool(step.files)
        return bool(self.check_passed)


def probeable(step: Step) -> bool:
    """A step the probe can decide: it has something to read, and its check's input (if
    any) is text without secrets, which the probe can pass along as an argument."""
    reads = bool(step.files) or step.check is not None
    return reads and (step.check is None or _input(step.check) is not None)


def _input(check: Command) -> str | None:
    """The check's input as text ("" without input); None when it cannot travel as an
    argument: a secret (never on a command line), or bytes that are not plain text."""
    if check.stdin is None:
        return ""
    if not isinstance(check.stdin, bytes) or b"\0" in check.stdin:
        return None
    try:
        return check.stdin.decode()
    except UnicodeDecodeError:
        return None


def probe_command(steps: Sequence[Step]) -> Command:
    """One read-only script for ``steps`` (numbered by position): ``F i k hash`` per file,
    ``C i status`` per check.  Paths, checks and their input travel as quoted arguments;
    the checks run side by side (each prints one short line, written at once)."""
    lines = [_HASH]
    args: list[str | Command] = []

    def arg(value: str | Command) -> str:
        args.append(value)
        return f'"${{{len(args)}}}"'

    for i, step in enumerate(steps):
        if not probeable(step):
            continue
        for k, change in enumerate(step.files):
            lines.append(f'echo "F {i} {k} $(h {arg(change.path)})"')
        if step.check is not None:
            text = _input(step.check)
            feed = f"printf '%s' {arg(text)}" if text else "true"
            run = f"{feed} | sh -c {arg(step.check)} >/dev/null 2>&1"
            lines.append(f'( {run}; echo "C {i} $?" ) &')
    lines.append("wait")
    return Command(("sh", "-c", "\n".join(lines), "sh", *args))


def parse_probe(steps: Sequence[Step], stdout: str) -> dict[int, Probed]:
    """Each step's state by position; a step the output does not fully answer is left out."""
    hashes: dict[tuple[int, int], str] = {}
    checks: dict[int, bool] = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == "F" and parts[1].isdigit() and parts[2].isdigit():
            hashes[(int(parts[1]), int(parts[2]))] = parts[3]
        elif len(parts) == 3 and parts[0] == "C" and parts[1].isdigit() and parts[2].isdigit():
            checks[int(parts[1])] = parts[2] == "0"
    found: dict[int, Probed] = {}
    for i, step in enumerate(steps):
        if not probeable(step):
            continue
        keys = [(i, k) for k in range(len(step.files))]
        if any(key not in hashes for key in keys) or (step.check is not None and i not in checks):
            continue
        matching = frozenset(
            change.path
            for k, change in enumerate(step.files)
            if hashes[(i, k)] == hashlib.sha256(change.content).hexdigest()
        )
        missing = frozenset(
            change.path for k, change in enumerate(step.files) if hashes[(i, k)] == "-"
        )
        found[i] = Probed(matching, missing, checks.get(i))
    return found
