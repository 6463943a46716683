"""Password hashing (argon2id) and the strength rule for new passwords.

The rule is deliberately short, so it can be stated in one sentence on the
form: at least :data:`MIN_PASSWORD_LENGTH` characters, at most
:data:`MAX_PASSWORD_LENGTH`, drawn from at least two of four classes (lower
case, upper case, digits, anything else).  A long passphrase of lower-case
words with one space passes; ``aaaaaaaaaaaa`` and ``123456789012`` do not.

Hashing costs about a tenth of a second on purpose: services call these
functions in a worker thread (``asyncio.to_thread``), never on the event loop.
"""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from clustermgr.errors import InvalidInput
from clustermgr.redact import Secret

MIN_PASSWORD_LENGTH = 12
#: Longer input is refused when setting a password (it only costs hashing time).
MAX_PASSWORD_LENGTH = 1024
MIN_CHARACTER_CLASSES = 2

# argon2-cffi's defaults: argon2id, RFC 9106 "low memory" profile (t=3, 64 MiB, p=4).
_hasher = PasswordHasher()


def use_hasher(hasher: PasswordHasher) -> None:
    """Hash new passwords with ``hasher`` from now on (a test suite's cheap one).

    Hashes made with other parameters still verify; :func:`needs_rehash` flags them.
    """
    global _hasher
    _hasher = hasher
    dummy_hash.cache_clear()


def hash_password(password: Secret) -> str:
    """The encoded argon2id hash (salt and parameters included)."""
    return _hasher.hash(password.reveal())


def verify_password(hashed: str, password: Secret) -> bool:
    """True when ``password`` matches; False on a mismatch or a malformed hash."""
    try:
        return _hasher.verify(hashed, password.reveal())
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(hashed: str) -> bool:
    """True when ``hashed`` was made with other parameters than today's."""
    try:
        return _hasher.check_needs_rehash(hashed)
    except InvalidHashError:
        return True


@functools.cache
def dummy_hash() -> str:
    """A hash of nothing anyone knows: verifying against it costs what a real check costs."""
    return _hasher.hash(secrets.token_urlsafe(16))


def _classes(text: str) -> int:
    lower = any(c.islower() for c in text)
    upper = any(c.isupper() for c in text)
    digit = any(c.isdigit() for c in text)
    other = any(not c.isalnum() for c in text)
    return sum((lower, upper, digit, other))


def check_strength(password: Secret) -> None:
    """Refuse a new password that breaks the rule above (the message never shows it)."""
    value = password.reveal()
    if len(value) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"the password is too short: at least {MIN_PASSWORD_LENGTH} characters",
            hint="a few unrelated words make a long password that is easy to type",
        )
    if len(value) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"the password is too long: at most {MAX_PASSWORD_LENGTH} characters")
    if _classes(value) < MIN_CHARACTER_CLASSES:
        raise InvalidInput(
            "the password uses only one kind of character",
            hint="mix at least two of: lower case, upper case, digits, other characters "
            "(a space counts)",
        )
