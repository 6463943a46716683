"""The one-time setup page creates the first administrator and says so on the sign-in page."""

from __future__ import annotations

import re
from pathlib import Path

from clustermgr.auth import service as auth
from clustermgr.core.manager import Manager
from clustermgr.settings import Settings
from webfixture import client, hidden_csrf, running_app, sign_in

PASSWORD = "a-long-setup-passphrase-42"


async def test_setup_leads_to_the_sign_in_page_saying_the_admin_was_created(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "manager")
    async with running_app(settings) as app:
        manager: Manager = app.state.web.manager
        token = await auth.setup_token(manager)
        assert token is not None
        async with client(app=app) as http:
            form = await http.get("/setup", params={"token": token})
            answer = await http.post(
                "/setup",
                data={
                    "token": token,
                    "username": "root-admin",
                    "password": PASSWORD,
                    "csrf_token": hidden_csrf(form.text),
                },
            )
            assert answer.status_code == 303
            login = await http.get(answer.headers["location"])
            assert login.status_code == 200
            notice = re.search(r'<p class="notice" role="status">([^<]*)</p>', login.text)
            assert notice, "no notice on the sign-in page"
            assert notice.group(1) == (
                "The administrator was created: sign in with its name and password."
            )
            await sign_in(http, "root-admin", PASSWORD)


async def test_the_sign_in_page_shows_no_notice_it_was_not_sent(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "manager")
    async with running_app(settings) as app, client(app=app) as http:
        page = await http.get("/login", params={"done": "<b>made up</b>"})
        assert 'class="notice"' not in page.text and "made up" not in page.text
