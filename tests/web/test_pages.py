"""The GUI's pages over HTTP against the real app on the lab's inventory.

Every page renders for a signed-in user with one heading and labelled inputs;
forms answer invalid input with the form again and its error; adding a server
goes through the host key confirmation against a real lab host; every change
lands in the audit trail.
"""

from __future__ import annotations

import contextlib
import html as html_lib
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from html.parser import HTMLParser

import httpx
import pyotp
import pytest
from fastapi import FastAPI

from clustermgr.core.access import get_cluster
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.errors import NotFound
from clustermgr.services import clusters
from labfixture import Lab
from webfixture import (
    ADMIN_PASSWORD,
    WebUser,
    client,
    create_user,
    hidden_csrf,
    job_starts,
    sign_in,
    wait_for_job,
    wait_idle,
)

pytestmark = pytest.mark.integration

GUI_CLUSTER = "gui"


# --- reading pages ----------------------------------------------------------------


class _Page(HTMLParser):
    """The parts of a page the tests look at: headings, fields, labels, forms."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.h1: list[str] = []
        self.labels: set[str] = set()
        self.fields: list[dict[str, str | None]] = []
        self.tables = 0
        self.captions = 0
        self.landmarks: set[str] = set()
        self.forms: list[dict[str, object]] = []
        self._text: list[str] | None = None
        self._textarea: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("main", "nav", "header", "footer"):
            self.landmarks.add(tag)
        if tag == "h1":
            self._text = []
        if tag == "label" and a.get("for"):
            self.labels.add(str(a["for"]))
        if tag == "table":
            self.tables += 1
        if tag == "caption":
            self.captions += 1
        if tag == "form":
            self.forms.append({"action": a.get("action"), "fields": {}})
        if tag in ("input", "select", "textarea"):
            field = {**a, "tag": tag}
            self.fields.append(field)
            if tag == "textarea":
                self._textarea = field
                field["value"] = ""
            elif self.forms and a.get("name") and (a.get("type") != "checkbox"):
                self._form_fields()[str(a["name"])] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1" and self._text is not None:
            self.h1.append("".join(self._text).strip())
            self._text = None
        if tag == "textarea" and self._textarea is not None:
            if self.forms and self._textarea.get("name"):
                self._form_fields()[str(self._textarea["name"])] = self._textarea["value"] or ""
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)
        if self._textarea is not None:
            self._textarea["value"] = (self._textarea["value"] or "") + data

    def _form_fields(self) -> dict[str, str]:
        fields = self.forms[-1]["fields"]
        assert isinstance(fields, dict)
        return fields

    def form(self, action: str) -> dict[str, str]:
        """The fields a browser would post with the form that posts to ``action``."""
        for form in self.forms:
            if form["action"] == action:
                fields = form["fields"]
                assert isinstance(fields, dict)
                return dict(fields)
        raise AssertionError(f"no form posting to {action}")

    def unlabelled(self) -> list[str]:
        out = []
        for f in self.fields:
            if f.get("type") == "hidden" or "hidden" in f or f.get("aria-label"):
                continue
            if f.get("id") not in self.labels:
                out.append(f"{f['tag']} {f.get('name')!r}")
        return out


def page(html: str) -> _Page:
    parsed = _Page()
    parsed.feed(html)
    return parsed


def alert(html: str) -> str:
    match = re.search(r'role="alert"[^>]*>(.*?)</div>', html, re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", match.group(1))) if match else ""


def csrf_of(html: str) -> str:
    return hidden_csrf(html)


# --- fixtures -----------------------------------------------------------------------


@pytest.fixture
async def quiet_gui(web_app: FastAPI, web_admin: WebUser) -> AsyncIterator[httpx.AsyncClient]:
    """A signed-in client whose bodies are not logged: the add-server confirmation page
    holds the private key in its form (by design), which the leak checks would flag."""
    async with client(app=web_app) as http:
        await sign_in(http, web_admin.username, web_admin.password)
        yield http


@pytest.fixture
async def manager(lab: Lab) -> AsyncIterator[Manager]:
    opened = await Manager.open(lab.settings)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def gui_cluster(manager: Manager) -> AsyncIterator[str]:
    """The name of a cluster the test may create; gone again afterwards."""
    yield GUI_CLUSTER
    with contextlib.suppress(NotFound):
        await clusters.remove_cluster(manager, GUI_CLUSTER)


# --- every page ---------------------------------------------------------------------

PAGES = [
    "/",
    "/servers",
    "/servers/add",
    "/servers/add?cluster=lab",
    "/clusters/lab",
    "/clusters/lab/ldap",
    "/clusters/lab/keys",
    "/clusters/lab/keys?plan=1",
    "/clusters/lab/alerts",
    "/clusters/lab/alerts?severity=critical&host=idp1.lab.test",
    "/clusters/lab/nodes/add",
    "/clusters/lab/nodes/idp1.lab.test/remove",
    "/servers/lab/idp1.lab.test",
    "/servers/lab/idp1.lab.test/remove",
    "/jobs",
    "/notify",
    "/audit",
    "/account",
]


@pytest.mark.parametrize("path", PAGES)
async def test_page_renders_for_a_signed_in_user(gui: httpx.AsyncClient, path: str) -> None:
    answer = await gui.get(path)
    assert answer.status_code == 200, answer.text[:500]
    parsed = page(answer.text)
    assert len(parsed.h1) == 1 and parsed.h1[0], "one top heading"
    assert {"main", "nav", "header"} <= parsed.landmarks
    assert parsed.unlabelled() == [], "every input has a label"
    assert parsed.captions == parsed.tables, "every table has a caption"
    assert 'aria-current="page"' in answer.text, "the navigation marks where we are"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/servers",
        "/clusters/lab",
        "/clusters/lab/ldap",
        "/clusters/lab/alerts",
        "/jobs",
        "/audit",
        "/account",
    ],
)
async def test_pages_need_a_session(anon: httpx.AsyncClient, path: str) -> None:
    answer = await anon.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


async def test_changes_need_the_csrf_token(gui: httpx.AsyncClient) -> None:
    answer = await gui.post("/clusters/lab/check", data={})
    assert answer.status_code == 403
    assert "security token" in alert(answer.text)


async def test_dashboard_shows_the_lab_servers(gui: httpx.AsyncClient, lab: Lab) -> None:
    html = (await gui.get("/")).text
    assert "Cluster lab" in html
    for host in lab.config.hosts():
        assert f'href="/servers/lab/{host.fqdn}"' in html


async def test_unknown_cluster_and_server_are_404(gui: httpx.AsyncClient) -> None:
    for path in ("/clusters/nosuch", "/servers/lab/nosuch.lab.test", "/jobs/999999"):
        answer = await gui.get(path)
        assert answer.status_code == 404, path
        assert page(answer.text).h1 == ["Not found"]
        assert alert(answer.text).strip()


# --- servers ------------------------------------------------------------------------


async def test_invalid_hostname_shows_the_form_again_and_stores_nothing(
    gui: httpx.AsyncClient, manager: Manager
) -> None:
    form = await gui.get("/servers/add")
    data = {
        "csrf_token": csrf_of(form.text),
        "cluster": "gui-invalid",
        "hostname": "not_a_host",
        "address": "10.0.0.1",
        "ssh_port": "22",
        "ssh_user": "root",
        "role": "identity",
    }
    answer = await gui.post("/servers/add", data=data)
    assert answer.status_code == 400
    assert "invalid hostname 'not_a_host'" in alert(answer.text)
    fields = page(answer.text).form("/servers/add")
    assert fields["hostname"] == "not_a_host" and fields["address"] == "10.0.0.1"
    assert "data-focus" in answer.text, "the error takes the focus"
    with pytest.raises(NotFound):
        await get_cluster(manager, "gui-invalid")

    data.update(hostname="ok.example.org", ssh_port="port")
    answer = await gui.post("/servers/add", data=data)
    assert answer.status_code == 400
    assert "invalid SSH port" in alert(answer.text)


async def test_add_server_confirms_the_host_key_then_edit_and_remove(
    quiet_gui: httpx.AsyncClient,
    gui: httpx.AsyncClient,
    lab: Lab,
    manager: Manager,
    gui_cluster: str,
) -> None:
    http = quiet_gui
    host = lab.host("idp1")
    key_text = lab.config.ssh_key.read_text()
    form = await http.get(f"/servers/add?cluster={gui_cluster}")
    assert f'value="{gui_cluster}"' in form.text, "the cluster is filled in"
    first = await http.post(
        "/servers/add",
        data={
            "csrf_token": csrf_of(form.text),
            "cluster": gui_cluster,
            "hostname": host.fqdn,
            "address": host.address,
            "ssh_port": "22",
            "ssh_user": "root",
            "role": "identity",
        },
        files={"key_file": ("lab_ed25519", key_text.encode(), "application/octet-stream")},
    )
    assert first.status_code == 200, alert(first.text)
    confirm = page(first.text)
    assert confirm.h1 == [f"Confirm the host key of {host.fqdn}"]
    shown = re.search(r'<code id="fingerprint">([^<]+)</code>', first.text)
    command = re.search(r'<code id="compare-command">([^<]+)</code>', first.text)
    assert shown and command
    assert command.group(1) == "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub"
    own = await lab.sh("idp1", command.group(1))
    assert shown.group(1) in own, "the exact command shows the same fingerprint on the server"
    with pytest.raises(NotFound):
        await get_cluster(manager, gui_cluster)  # nothing stored before the confirmation
    fields = confirm.form("/servers/add")
    assert fields["fingerprint"] == shown.group(1)
    assert fields["private_key"].strip() == key_text.strip(), "the key rides in the form only"
    assert "cm_session" in http.cookies and key_text.strip() not in str(dict(http.cookies))

    wrong = await http.post("/servers/add", data={**fields, "fingerprint": "SHA256:" + "A" * 43})
    assert wrong.status_code == 409
    assert "does not match the fingerprint you gave" in alert(wrong.text)
    assert "HOST KEY CHANGED" not in wrong.text, "nothing was pinned"
    with pytest.raises(NotFound):
        await get_cluster(manager, gui_cluster)

    added = await http.post("/servers/add", data=fields)
    assert added.status_code == 303, alert(added.text)
    assert added.headers["location"] == f"/clusters/{gui_cluster}?done=server-added"
    cluster_page = await gui.get(added.headers["location"])
    assert "Server added." in cluster_page.text and host.fqdn in cluster_page.text
    (view,) = (await get_cluster(manager, gui_cluster)).servers
    assert view.host_keys[0].fingerprint == shown.group(1)
    assert key_text.strip() not in cluster_page.text

    server_url = f"/servers/{gui_cluster}/{host.fqdn}"
    detail = await gui.get(server_url)
    edit = page(detail.text).form(server_url)
    bad = await gui.post(server_url, data={**edit, "address": "not an address!"})
    assert bad.status_code == 400 and "invalid address" in alert(bad.text)
    assert (await get_cluster(manager, gui_cluster)).servers[0].address == host.address
    saved = await gui.post(server_url, data={**edit, "role": "proxy", "ssh_port": "22"})
    assert saved.status_code == 303
    assert (await get_cluster(manager, gui_cluster)).servers[0].role.value == "proxy"

    # The address now reaches another machine (as a reinstalled server would):
    # its page shows both keys, and the new one is pinned only once confirmed.
    other = lab.host("idp2")
    moved = await gui.post(server_url, data={**edit, "address": other.address})
    assert moved.status_code == 303
    assert f'href="{server_url}/host-key"' in (await gui.get(server_url)).text
    key_page = await gui.get(f"{server_url}/host-key")
    assert key_page.status_code == 200, alert(key_page.text)
    presented = re.search(r'<code id="presented">([^<]+)</code>', key_page.text)
    assert presented and f"ssh-ed25519 {shown.group(1)}" in key_page.text
    new_fingerprint = presented.group(1).split()[1]
    assert new_fingerprint != shown.group(1)
    assert new_fingerprint in await lab.sh(
        "idp2", "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub"
    )
    trust_url = f"{server_url}/host-key"
    trust = page(key_page.text).form(trust_url)
    assert trust["fingerprint"] == new_fingerprint
    mismatch = await gui.post(trust_url, data={**trust, "fingerprint": shown.group(1)})
    assert mismatch.status_code == 409
    assert "does not match the fingerprint you gave" in alert(mismatch.text)
    assert (await get_cluster(manager, gui_cluster)).servers[0].host_keys[0].fingerprint == (
        shown.group(1)
    )
    trusted = await gui.post(trust_url, data=trust)
    assert trusted.status_code == 303, alert(trusted.text)
    assert trusted.headers["location"] == f"{server_url}?done=host-key-trusted"
    assert "new host key is trusted." in (await gui.get(trusted.headers["location"])).text
    (view,) = (await get_cluster(manager, gui_cluster)).servers
    assert [k.fingerprint for k in view.host_keys] == [new_fingerprint]
    assert "nothing to trust" in (await gui.get(trust_url)).text

    confirm_remove = await gui.get(f"{server_url}/remove")
    assert page(confirm_remove.text).h1 == [f"Remove {host.fqdn} from cluster {gui_cluster}?"]
    removed = await gui.post(
        f"{server_url}/remove", data=page(confirm_remove.text).form(f"{server_url}/remove")
    )
    assert removed.status_code == 303
    assert (await get_cluster(manager, gui_cluster)).servers == ()

    trail = (await gui.get("/audit", params={"actor": "admin"})).text
    for action in ("server.add", "server.update", "server.trust", "server.remove"):
        assert f'<th scope="row">{action}</th>' in trail, action
    assert "refused" in trail, "the wrong fingerprint is on the record too"
    assert key_text.strip() not in trail


# --- jobs ---------------------------------------------------------------------------


async def start(http: httpx.AsyncClient, path: str, csrf_page: str) -> int:
    token = csrf_of((await http.get(csrf_page)).text)
    answer = await http.post(path, data={"csrf_token": token})
    assert answer.status_code == 303, alert(answer.text)
    match = re.fullmatch(r"/jobs/(\d+)", answer.headers["location"])
    assert match, answer.headers["location"]
    return int(match.group(1))


async def test_preflight_job_page_shows_checks_log_and_run_again(
    gui: httpx.AsyncClient, api: httpx.AsyncClient, lab: Lab, web_admin: WebUser
) -> None:
    await wait_idle(api)
    job_id = await start(gui, "/clusters/lab/check", "/clusters/lab")
    await wait_for_job(api, job_id)
    assert await job_starts(api, web_admin.username, job_id) == 1
    html = (await gui.get(f"/jobs/{job_id}")).text
    assert page(html).h1 == [f"Job #{job_id}: preflight of cluster lab"]
    assert "Preflight checks by host" in html
    assert 'id="job-done"' in html and "Finished: succeeded." in html
    assert "ssh login" in html and "Run again" in html and "Cancel job" not in html
    assert "data-stream" not in html, "a finished job needs no stream"

    stream = await gui.get(f"/jobs/{job_id}/events")
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert "event: step" in stream.text and stream.text.rstrip().splitlines()[-1].startswith(
        "data: "
    )
    assert "event: done" in stream.text

    cluster_html = (await gui.get("/clusters/lab")).text
    assert f'href="/jobs/{job_id}"' in cluster_html
    assert "not checked yet" not in cluster_html, "each server shows its latest verdict"
    dashboard = (await gui.get("/")).text
    assert 'class="check check-' in dashboard

    again = await gui.post(f"/jobs/{job_id}/rerun", data={"csrf_token": csrf_of(html)})
    assert again.status_code == 303
    rerun = int(again.headers["location"].rsplit("/", 1)[1])
    assert rerun > job_id
    await wait_for_job(api, rerun)


async def test_plan_page_apply_confirmation_and_conflict(
    gui: httpx.AsyncClient, api: httpx.AsyncClient, lab: Lab
) -> None:
    await wait_idle(api)
    begin, end = "# BEGIN clustermgr cluster lab", "# END clustermgr cluster lab"
    await lab.sh("proxy1", 'sed -i "/^$1$/,/^$2$/d" /etc/hosts', begin, end)
    plan_id = await start(gui, "/clusters/lab/plan", "/clusters/lab")
    await wait_for_job(api, plan_id)
    html = (await gui.get(f"/jobs/{plan_id}")).text
    assert "Plan: what would change" in html
    assert "Steps on proxy1.lab.test" in html
    assert 'class="diff-add"' in html, "the diff of /etc/hosts, coloured"
    match = re.search(r"Yes, change these (\d+) steps? on cluster lab", html)
    assert match and int(match.group(1)) >= 1
    token = csrf_of(html)

    unconfirmed = await gui.post(f"/jobs/{plan_id}/apply", data={"csrf_token": token})
    assert unconfirmed.status_code == 400 and "not confirmed" in alert(unconfirmed.text)

    confirmed = {"csrf_token": token, "confirm": "yes"}
    first = await gui.post(f"/jobs/{plan_id}/apply", data=confirmed)
    assert first.status_code == 303
    apply_id = int(first.headers["location"].rsplit("/", 1)[1])
    second = await gui.post(f"/jobs/{plan_id}/apply", data=confirmed)
    assert second.status_code == 409
    assert f"job #{apply_id} (apply" in alert(second.text)
    assert "is already changing cluster 'lab'" in alert(second.text)
    assert page(second.text).h1 == ["Refused: conflict"]

    job = await wait_for_job(api, apply_id)
    assert job["state"] == "succeeded", job
    applied = (await gui.get(f"/jobs/{apply_id}")).text
    assert "Outcome" in applied and f'href="/jobs/{plan_id}"' in applied
    assert 'outcome-changed">changed' in applied
    assert "Apply these changes" not in applied

    trail = (await gui.get("/audit")).text
    assert "kind=apply" in trail and "refused" in trail


async def test_an_apply_whose_plan_changed_since_review_changes_nothing(
    gui: httpx.AsyncClient, api: httpx.AsyncClient, lab: Lab
) -> None:
    """The apply started from a plan page carries the plan's digest.  A server changed
    after the review: the apply fails, changes nothing, and shows the new plan, which can
    be applied from its page."""
    await wait_idle(api)
    begin, end = "# BEGIN clustermgr cluster lab", "# END clustermgr cluster lab"
    drop_block = 'sed -i "/^$1$/,/^$2$/d" /etc/hosts'
    await lab.sh("proxy1", drop_block, begin, end)
    plan_id = await start(gui, "/clusters/lab/plan", "/clusters/lab")
    await wait_for_job(api, plan_id)
    token = csrf_of((await gui.get(f"/jobs/{plan_id}")).text)

    await lab.sh("idp1", drop_block, begin, end)  # someone else's change, after the review
    hosts_before = await lab.sh("idp1", "cat /etc/hosts")
    refused = await gui.post(f"/jobs/{plan_id}/apply", data={"csrf_token": token, "confirm": "yes"})
    refused_id = int(refused.headers["location"].rsplit("/", 1)[1])
    job = await wait_for_job(api, refused_id)
    assert job["state"] == "failed" and job["result"]["plan_changed"] is True, job
    assert (
        job["params"]["plan_digest"]
        == (await api.get(f"/api/v1/jobs/{plan_id}")).json()["result"]["digest"]
    )
    assert await lab.sh("idp1", "cat /etc/hosts") == hosts_before, "nothing was changed"
    html = (await gui.get(f"/jobs/{refused_id}")).text
    assert 'id="plan-changed"' in html and "Steps on idp1.lab.test" in html
    assert "Apply these changes" in html, "the new plan is offered for apply"

    again = await gui.post(
        f"/jobs/{refused_id}/apply", data={"csrf_token": csrf_of(html), "confirm": "yes"}
    )
    applied = await wait_for_job(api, int(again.headers["location"].rsplit("/", 1)[1]))
    assert applied["state"] == "succeeded", applied
    assert begin in await lab.sh("idp1", "cat /etc/hosts")


async def test_cancel_button_stops_a_running_plan(
    gui: httpx.AsyncClient, api: httpx.AsyncClient, lab: Lab
) -> None:
    await wait_idle(api)
    lab.partition("idp2")  # the plan waits for idp2's connection to time out
    try:
        plan_id = await start(gui, "/clusters/lab/plan", "/clusters/lab")
        running = (await gui.get(f"/jobs/{plan_id}")).text
        assert "Cancel job" in running and f'data-stream="/jobs/{plan_id}/events?after=' in running
        assert 'id="job-done" role="status" class="done-marker" hidden' in running
        cancelled = await gui.post(f"/jobs/{plan_id}/cancel", data={"csrf_token": csrf_of(running)})
        assert cancelled.status_code == 303
        assert cancelled.headers["location"] == f"/jobs/{plan_id}?done=cancel-requested"
        notice = (await gui.get(cancelled.headers["location"])).text
        assert "Cancel requested" in notice
        job = await wait_for_job(api, plan_id)
    finally:
        lab.heal("idp2")
    assert job["state"] == "cancelled", job
    html = (await gui.get(f"/jobs/{plan_id}")).text
    assert "Finished: cancelled." in html and "Run again" in html
    assert "This plan ended cancelled" in html and "Yes, change these" not in html


async def test_jobs_history_pages(gui: httpx.AsyncClient) -> None:
    first = await gui.get("/jobs")
    assert first.status_code == 200
    ids = [int(i) for i in re.findall(r'<th scope="row"><a href="/jobs/(\d+)">', first.text)]
    assert ids == sorted(ids, reverse=True)
    older = await gui.get("/jobs", params={"before": ids[-1] if ids else 1})
    assert older.status_code == 200 and "Newest jobs" in older.text


# --- audit and account --------------------------------------------------------------


async def test_audit_shows_entries_and_filters_by_user(gui: httpx.AsyncClient) -> None:
    html = (await gui.get("/audit")).text
    assert "Who did what, when, with what result" in html
    assert '<th scope="row">login</th>' in html
    only = (await gui.get("/audit", params={"actor": "nobody-at-all"})).text
    assert "No entry by nobody-at-all" in only
    paged = await gui.get("/audit", params={"before": 2})
    assert paged.status_code == 200 and "Newest entries" in paged.text


async def test_account_totp_and_api_tokens(web_app: FastAPI, lab: Lab) -> None:
    user = await create_user(lab.settings, "page-tester", ADMIN_PASSWORD + "x")
    async with client(app=web_app) as http:
        await sign_in(http, user.username, user.password)
        account = (await http.get("/account")).text
        assert "Off" in account
        begun = await http.post("/account/totp/begin", data={"csrf_token": csrf_of(account)})
        assert begun.status_code == 200
        fields = page(begun.text).form("/account/totp/enable")
        secret = fields["secret"]
        assert f'value="{secret}"' in begun.text and "otpauth://totp/" in begun.text

        wrong = await http.post("/account/totp/enable", data={**fields, "code": "000000"})
        assert wrong.status_code == 400 and "wrong TOTP code" in alert(wrong.text)
        assert page(wrong.text).form("/account/totp/enable")["secret"] == secret

        right = {**fields, "code": pyotp.TOTP(secret).now()}
        enabled = await http.post("/account/totp/enable", data=right)
        assert enabled.status_code == 303
        account = (await http.get(enabled.headers["location"])).text
        assert "Two-factor authentication is on." in account
        disable = page(account).form("/account/totp/disable")
        refused = await http.post("/account/totp/disable", data=disable)
        assert refused.status_code == 400, "the box must be ticked"
        confirmed = {**disable, "confirm": "yes", "password": user.password}
        no_code = await http.post("/account/totp/disable", data=confirmed)
        assert no_code.status_code == 401 and "TOTP code is required" in alert(no_code.text)
        later = pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))
        disabled = await http.post("/account/totp/disable", data={**confirmed, "code": later})
        assert disabled.status_code == 303

        token_form = {"csrf_token": csrf_of(account), "name": "page-token", "password": "wrong"}
        wrong_password = await http.post("/account/tokens", data=token_form)
        assert wrong_password.status_code == 401, "a token needs the password again"
        token_form["password"] = user.password
        created = await http.post("/account/tokens", data=token_form)
        assert created.status_code == 201
        token = re.search(r'id="new-token-value" readonly value="(cm_[^"]+)"', created.text)
        assert token, "the new token is shown"
        again = (await http.get("/account")).text
        assert token.group(1) not in again and "page-token" in again, "shown once only"
        duplicate = await http.post("/account/tokens", data=token_form)
        assert duplicate.status_code == 409 and "already has a token" in alert(duplicate.text)
        revoked = await http.post(
            "/account/tokens/revoke", data={"csrf_token": csrf_of(again), "name": "page-token"}
        )
        assert revoked.status_code == 303
        assert "page-token" not in (await http.get("/account")).text

        trail = (await http.get("/audit", params={"actor": user.username})).text
        for action in ("totp.enable", "totp.disable", "token.create", "token.revoke"):
            assert f'<th scope="row">{action}</th>' in trail, action


async def test_replication_compare_job_and_reinit_confirmation(
    gui: httpx.AsyncClient, api: httpx.AsyncClient, lab: Lab
) -> None:
    """Compare from the replication page; re-initialising asks first and refuses bad input.

    The session lab's nodes were loaded each on its own (no replication): compare
    finds their data different (other entryUUIDs) or cannot read it, and says so.
    No re-initialisation runs here: it would rewrite a node other tests use.
    """
    await wait_idle(api)
    job_id = await start(gui, "/clusters/lab/ldap/compare", "/clusters/lab/ldap")
    job = await wait_for_job(api, job_id)
    assert job["kind"] == "ldap-compare" and job["result"] is not None, job
    verdict = job["result"]["verdict"]
    assert job["state"] == ("succeeded" if verdict == "identical" else "failed"), job
    page_html = (await gui.get(f"/jobs/{job_id}")).text
    assert "Data comparison" in page_html and f">{verdict}</span>" in page_html

    idp1, idp2 = (lab.host(n).fqdn for n in ("idp1", "idp2"))
    base = "/clusters/lab/ldap/reinit"
    same = await gui.get(base, params={"node": idp1, "source": idp1})
    assert same.status_code == 400 and "from itself" in alert(same.text)
    stranger = await gui.get(base, params={"node": "nosuch.lab.test", "source": idp1})
    assert stranger.status_code == 400 and "not an identity server" in alert(stranger.text)

    loss = await gui.get(base, params={"node": idp1, "source": idp2})
    assert loss.status_code == 200, alert(loss.text)
    assert "What will be lost" in loss.text and 'name="confirm"' in loss.text
    assert f"every change on {idp1} that" in html_lib.unescape(loss.text)

    token = csrf_of(loss.text)
    unconfirmed = await gui.post(base, data={"csrf_token": token, "node": idp1, "source": idp2})
    assert unconfirmed.status_code == 400 and "discards every change" in alert(unconfirmed.text)
    query: dict[str, str | int] = {"cluster": "lab", "limit": 20}
    listed = (await api.get("/api/v1/jobs", params=query)).json()["items"]
    assert not [j for j in listed if j["kind"] == "ldap-reinit"], "nothing started"
