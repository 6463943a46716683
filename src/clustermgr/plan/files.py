"""How the executor changes a file on a host: stage, validate, install, restore.

A new file is first written beside its target as a hidden candidate (same
filesystem, so the final ``mv`` is atomic and readers never see half a file;
hidden, so ``include dir/*`` globs of nginx and friends skip it).  The previous
version is copied to :data:`BACKUP_ROOT` before it is replaced, and copied back
byte for byte when validation or verification fails.
"""

from __future__ import annotations

import posixpath

from clustermgr.plan import certdiff, masking
from clustermgr.plan.diffs import hidden, unified
from clustermgr.plan.model import FileChange, FileDiff
from clustermgr.remote.command import Command

BACKUP_ROOT = "/var/backups/clustermgr"


def candidate_path(path: str, token: str) -> str:
    folder, name = posixpath.split(path)
    return posixpath.join(folder, f".{name}.clustermgr-{token}")


def backup_path(path: str, root: str = BACKUP_ROOT) -> str:
    """Where the previous version of ``path`` is kept (one generation)."""
    return posixpath.join(root, path.lstrip("/")) + ".prev"


def prepare_dir_command(path: str) -> Command:
    return Command.of("mkdir", "-p", posixpath.dirname(path) or "/")


def install_command(candidate: str, change: FileChange, backup_root: str) -> Command:
    """Keep the current file as the backup, then move the candidate over it."""
    return Command.script(
        "set -e\n"
        'if [ -n "$4" ]; then chown "$4" "$1"; fi\n'
        'if [ -e "$2" ]; then mkdir -p "$(dirname "$3")"; cp -p "$2" "$3"; fi\n'
        'mv -f "$1" "$2"',
        candidate,
        change.path,
        backup_path(change.path, backup_root),
        change.owner or "",
    )


def restore_command(path: str, *, existed: bool, token: str, backup_root: str) -> Command:
    """Put the backup back (atomically), or remove a file that did not exist before."""
    if not existed:
        return Command.of("rm", "-f", "--", path)
    return Command.script(
        'set -e\ncp -p "$2" "$3"\nmv -f "$3" "$1"',
        path,
        backup_path(path, backup_root),
        candidate_path(path, f"restore-{token}"),
    )


def discard_command(candidate: str) -> Command:
    return Command.of("rm", "-f", "--", candidate)


def file_diff(change: FileChange, current: bytes | None) -> FileDiff:
    """How a plan shows the change of a file.

    A file holding a private key is never shown; a placeholder says what it
    stands for; a sensitive file shows its
    secrets masked (:mod:`masking`), or only that it changes; a certificate shows
    its summary (:mod:`certdiff`); any other file a diff of its text.
    """
    path, created = change.path, current is None
    if certdiff.holds_private_key(change.content) or certdiff.holds_private_key(current):
        return FileDiff(path, hidden(path, "holds a private key"), created)
    if change.placeholder:
        return FileDiff(path, f"{path}: {change.placeholder}\n", created)
    old = None if current is None else current.decode(errors="replace")
    new = change.content.decode(errors="replace")
    if change.sensitive:
        return FileDiff(path, masking.masked_diff(path, old, new, change.secrets), created)
    if certdiff.holds_certificate(change.content) or certdiff.holds_certificate(current):
        return FileDiff(path, certdiff.certificate_diff(path, current, change.content), created)
    old_lines = None if old is None else old.splitlines(keepends=True)
    return FileDiff(path, unified(path, old_lines, new.splitlines(keepends=True)), created)
