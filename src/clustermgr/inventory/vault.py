"""Credentials encrypted at rest with a key kept outside the database.

The key is a Fernet key in its own file (mode 0600), by default beside the
SQLite file but configurable to any path (a mounted secret, another disk).
A stolen database alone reveals no private key or password.

A key file that group or others may read is refused rather than fixed: the key
may already have been copied, and a person decides what follows.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from clustermgr.errors import SecretKeyError
from clustermgr.redact import Secret
from clustermgr.settings import NOT_PRIVATE


class Vault:
    def __init__(self, key_file: Path) -> None:
        self.key_file = key_file
        self._fernet: Fernet | None = None

    def _load(self, *, create: bool) -> Fernet:
        if self._fernet is not None:
            return self._fernet
        try:
            self._check_mode()
            key = self.key_file.read_bytes().strip()
        except FileNotFoundError:
            if not create:
                raise SecretKeyError(
                    f"secret key file {self.key_file} is missing: stored credentials "
                    "cannot be decrypted",
                    hint="restore the key file from your backup, or point "
                    "CLUSTERMGR_SECRET_KEY_FILE at it",
                ) from None
            key = self._create()
        try:
            self._fernet = Fernet(key)
        except ValueError:
            raise SecretKeyError(f"secret key file {self.key_file} is not a valid key") from None
        return self._fernet

    def _check_mode(self) -> None:
        mode = stat.S_IMODE(self.key_file.stat().st_mode)
        if mode & NOT_PRIVATE:
            raise SecretKeyError(
                f"secret key file {self.key_file} is open to group or others (mode {mode:04o}): "
                "refusing to use it",
                hint=f"make it readable by its owner only (chmod 600 {self.key_file}); if others "
                "could read it, treat the stored credentials as exposed and replace them",
            )

    def _create(self) -> bytes:
        key = Fernet.generate_key()
        self.key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # O_EXCL: never overwrite a key another process just wrote.
        fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key + b"\n")
        return key

    def seal(self, fields: dict[str, Secret | None], *, first: bool) -> bytes:
        """Encrypt named secrets. ``first``: no credential exists yet, a key may be created."""
        plain = {name: value.reveal() for name, value in fields.items() if value is not None}
        return self._load(create=first).encrypt(json.dumps(plain).encode())

    def open(self, ciphertext: bytes, *, label: str) -> dict[str, Secret]:
        try:
            plain = self._load(create=False).decrypt(ciphertext)
        except InvalidToken:
            raise SecretKeyError(
                f"credential {label!r} cannot be decrypted with {self.key_file}",
                hint="the key file does not match the one the credential was stored with",
            ) from None
        data: dict[str, str] = json.loads(plain)
        return {name: Secret.held(value, label=f"{label}.{name}") for name, value in data.items()}
