"""How the executor changes a file on a host: stage, validate, install, restore.

A new file is first written beside its target as a hidden candidate (same
filesystem, so the final ``mv`` is atomic and readers never see half a file;
hidden, so ``include dir/*`` globs of nginx and friends skip it).  The previous
version is copied to :data:`BACKUP_ROOT` before it is replaced, and copied back
byte for byte when validation or verification fails.
"""

from __future__ import annotations

import difflib
import posixpath

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
    created = current is None
    if change.sensitive:
        text = f"{change.path}: content changes (holds secrets, not shown)\n"
        return FileDiff(change.path, text, created)
    old = (current or b"").decode(errors="replace").splitlines(keepends=True)
    new = change.content.decode(errors="replace").splitlines(keepends=True)
    lines = difflib.unified_diff(
        old,
        new,
        fromfile="/dev/null" if created else change.path,
        tofile=change.path,
    )
    return FileDiff(change.path, "".join(lines), created)
