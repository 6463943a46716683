"""The add-server form says what the manager logs in with, and refuses a server without it."""

from __future__ import annotations

from clustermgr.inventory.store import InventoryStore
from webfixture import FreshWeb, client, session_csrf, sign_in


async def test_the_form_says_the_key_is_required_and_why(fresh_web: FreshWeb) -> None:
    async with client(app=fresh_web.app) as http:
        await sign_in(http, fresh_web.admin.username, fresh_web.admin.password)
        page = (await http.get("/servers/add")).text
        assert "leave both empty" not in page
        assert "Required, OpenSSH or PEM" in page
        assert "never with its own SSH agent" in page


async def test_a_server_without_a_key_is_refused_in_words_before_any_contact(
    fresh_web: FreshWeb,
) -> None:
    async with client(app=fresh_web.app) as http:
        await sign_in(http, fresh_web.admin.username, fresh_web.admin.password)
        token = await session_csrf(http, "/servers/add")
        answer = await http.post(
            "/servers/add",
            data={
                "csrf_token": token,
                "cluster": "prod",
                "hostname": "idp1.example.org",
                # A closed loopback port: were it tried, the answer would not be the refusal.
                "address": "127.0.0.1",
                "ssh_port": "1",
                "ssh_user": "root",
                "role": "identity",
            },
        )
    assert answer.status_code == 400
    assert "an SSH private key is needed" in answer.text
    assert 'value="idp1.example.org"' in answer.text, "the form keeps what was typed"
    manager = fresh_web.app.state.web.manager
    async with manager.store() as store:
        assert isinstance(store, InventoryStore)
        assert await store.clusters() == []
