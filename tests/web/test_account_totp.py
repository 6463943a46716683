"""TOTP enrolment on the account page: a secret that is not one is a clear 400."""

from __future__ import annotations

import html
import re

import pyotp
import pytest

from webfixture import FreshWeb, client, session_csrf, sign_in

pytestmark = pytest.mark.integration


def alert(page: str) -> str:
    found = re.search(r'role="alert"[^>]*>(.*?)</div>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))) if found else ""


@pytest.mark.parametrize("secret", ["!!!", "", "ABC", "A" * 16, "é" * 16])
async def test_an_invalid_totp_secret_is_a_clear_error(fresh_web: FreshWeb, secret: str) -> None:
    async with client(app=fresh_web.app) as http:
        await sign_in(http, fresh_web.admin.username, fresh_web.admin.password)
        csrf = await session_csrf(http, "/account")
        form = {"csrf_token": csrf, "secret": secret, "code": "123456"}
        answer = await http.post("/account/totp/enable", data=form)
        assert answer.status_code == 400, answer.text[:300]
        assert "the TOTP secret is not valid" in alert(answer.text)
        assert "start the set-up again" in alert(answer.text)
        account = (await http.get("/account")).text
        assert "Two-factor authentication is on." not in account


async def test_a_wrong_code_shows_the_set_up_again(fresh_web: FreshWeb) -> None:
    secret = pyotp.random_base32()
    async with client(app=fresh_web.app) as http:
        await sign_in(http, fresh_web.admin.username, fresh_web.admin.password)
        csrf = await session_csrf(http, "/account")
        form = {"csrf_token": csrf, "secret": secret, "code": "12345x"}
        answer = await http.post("/account/totp/enable", data=form)
    assert answer.status_code == 400 and "wrong TOTP code" in alert(answer.text)
    assert f'value="{secret}"' in answer.text and "otpauth://totp/" in answer.text
