"""Requests to a lab identity node's stand-in app on 443, as a browser would make them."""

from __future__ import annotations

import asyncio
import json
import ssl
import urllib.error
import urllib.request
from typing import Any

from clustermgr.lab.gluu import directory as gluu
from labfixture import ADMIN_PASSWORD, Lab


async def https(
    lab: Lab, node: str, path: str, body: dict[str, str] | None = None
) -> tuple[int, Any]:
    """A request to the node's port 443, trusting exactly the node's own certificate."""
    cert = await lab.sh(node, f"cat {gluu.HTTPD_CERT}")
    ctx = ssl.create_default_context(cadata=cert)
    ctx.check_hostname = False  # we dial the address; the pinned certificate is the check
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"https://{lab.host(node).address}{path}",
        data=data,
        headers={"Content-Type": "application/json"},
    )

    def call() -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(request, context=ctx, timeout=10) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as err:
            # The app's errors are JSON; the web server's own (a 502 while the app
            # is still starting behind it) are not: the status tells them apart.
            try:
                return err.code, json.loads(err.read() or b"null")
            except ValueError:
                return err.code, None

    return await asyncio.to_thread(call)


async def login(lab: Lab, node: str, password: str | None = None) -> tuple[int, Any]:
    secret = password if password is not None else ADMIN_PASSWORD.reveal()
    return await https(lab, node, "/oxauth/restv1/login", {"username": "admin", "password": secret})
