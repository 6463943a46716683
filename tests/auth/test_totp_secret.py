"""A TOTP secret that is not base32 of at least 112 bits is InvalidInput everywhere."""

from __future__ import annotations

import pytest

from clustermgr.auth import service as auth
from clustermgr.auth.totp import matching_step, totp_uri
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import InvalidInput
from clustermgr.redact import Secret

pytestmark = pytest.mark.integration

INVALID = ["!!!", "", "ABC", "A" * 16, "é" * 16]


@pytest.mark.parametrize("value", INVALID)
def test_an_invalid_secret_has_no_uri_and_matches_nothing(value: str) -> None:
    secret = Secret(value, label="totp")
    with pytest.raises(InvalidInput, match="the TOTP secret is not valid"):
        totp_uri(secret, "alice")
    with pytest.raises(InvalidInput, match="the TOTP secret is not valid"):
        matching_step(secret, "123456", utcnow())


async def test_enabling_with_an_invalid_secret_stores_nothing(manager: Manager) -> None:
    await auth.create_user(manager, "alice", Secret("Correct-horse-battery-9"))
    with pytest.raises(InvalidInput, match="the TOTP secret is not valid"):
        await auth.enable_totp(manager, "alice", Secret("A" * 16), "123456")
    assert not (await auth.list_users(manager))[0].totp_enabled
