"""The cluster's public hostname through the API and the cluster page: shown, set by an
admin, refused with the field named when it is no host name, reset to the proxy's."""

from __future__ import annotations

import html
import re

from clustermgr.auth.roles import UserRole
from clustermgr.inventory.schemas import ServerSpec
from clustermgr.web.context import WebContext
from webfixture import FreshWeb, client, create_user, session_csrf, sign_in

SETTINGS = "/api/v1/clusters/c/settings"


async def cluster_with_a_proxy(fresh_web: FreshWeb) -> None:
    web: WebContext = fresh_web.app.state.web
    async with web.manager.store() as store:
        for hostname, role in (("idp1.example.org", "identity"), ("lb1.example.org", "proxy")):
            spec = ServerSpec.parse(cluster="c", hostname=hostname, address=None, role=role)
            await store.add_server(spec, None, [])


def shown(page: str) -> str:
    """The cluster page's sentence about the public hostname, without its markup."""
    match = re.search(r'<p id="public-hostname">(.*?)</p>', page, re.S)
    assert match, "the cluster page shows no public hostname"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))


async def test_the_api_shows_sets_refuses_and_resets_the_public_hostname(
    fresh_web: FreshWeb,
) -> None:
    await cluster_with_a_proxy(fresh_web)
    async with client(app=fresh_web.app, token=fresh_web.admin.token) as api:
        got = (await api.get("/api/v1/clusters/c")).json()
        assert (got["public_hostname"], got["issuer"]) == (
            "lb1.example.org",
            "https://lb1.example.org",
        )
        bad = await api.patch(SETTINGS, json={"public_hostname": "idp example.org"})
        assert bad.status_code == 422
        assert (
            "public_hostname: Value error, 'idp example.org' is not a DNS host name"
            in (bad.json()["message"])
        )
        assert (await api.patch(SETTINGS, json={"hosts_file": "/x"})).status_code == 422
        assert (await api.get("/api/v1/clusters/c")).json()["settings"]["public_hostname"] is None
        done = await api.patch(SETTINGS, json={"public_hostname": "SSO.Example.org"})
        assert done.status_code == 200, done.text
        assert done.json()["public_hostname"] == "sso.example.org"
        assert done.json()["settings"]["public_hostname"] == "sso.example.org"
        assert (await api.get("/api/v1/clusters/c")).json()["issuer"] == "https://sso.example.org"
        reset = await api.patch(SETTINGS, json={"public_hostname": None})
        assert reset.json()["public_hostname"] == "lb1.example.org"
        assert reset.json()["settings"]["public_hostname"] is None

    operator = await create_user(
        fresh_web.settings, "oscar", "pw-operator-1", role=UserRole.OPERATOR
    )
    async with client(app=fresh_web.app, token=operator.token) as api:
        refused = await api.patch(SETTINGS, json={"public_hostname": "x.example.org"})
        assert refused.status_code == 403 and "admin role" in refused.json()["message"]


async def test_the_cluster_page_shows_and_sets_the_public_hostname(fresh_web: FreshWeb) -> None:
    await cluster_with_a_proxy(fresh_web)
    async with client(app=fresh_web.app) as gui:
        await sign_in(gui, fresh_web.admin.username, fresh_web.admin.password)
        page = await gui.get("/clusters/c")
        assert shown(page.text) == (
            "Public hostname: lb1.example.org (the proxy's hostname); every identity node "
            "should serve the issuer https://lb1.example.org."
        )
        token = await session_csrf(gui, "/clusters/c")
        form = {"csrf_token": token, "public_hostname": " sso.example.org "}
        saved = await gui.post("/clusters/c/settings", data=form)
        assert saved.status_code == 303 and saved.headers["location"] == "/clusters/c"
        page = await gui.get("/clusters/c")
        assert shown(page.text).startswith("Public hostname: sso.example.org (set);")
        assert 'value="sso.example.org"' in page.text

        form = {"csrf_token": token, "public_hostname": "sso_1.example.org"}
        refused = await gui.post("/clusters/c/settings", data=form)
        assert refused.status_code == 400
        assert "is not a DNS host name" in refused.text
        page = await gui.get("/clusters/c")
        assert shown(page.text).startswith("Public hostname: sso.example.org (set);")

        saved = await gui.post("/clusters/c/settings", data={"csrf_token": token})
        assert saved.status_code == 303
        page = await gui.get("/clusters/c")
        assert shown(page.text).startswith("Public hostname: lb1.example.org (the proxy's")
