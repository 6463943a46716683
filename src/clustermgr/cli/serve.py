"""``clustermgr serve``: the web GUI and the REST API.

Proxy headers (``X-Forwarded-For``, ``X-Forwarded-Proto``) are believed only
from the addresses in ``CLUSTERMGR_TRUSTED_PROXIES``; by default from nobody,
so a client cannot choose the address that throttling and the audit see.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from clustermgr.auth import service as auth
from clustermgr.cli.output import fail, say
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput
from clustermgr.redact import MASK
from clustermgr.settings import Settings
from clustermgr.web.app import create_app

#: Addresses that mean "every interface": they name no host a request could use.
WILDCARDS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 (compared with, not bound)

#: A query parameter carrying a token (``/setup?token=...``) and its value.
_TOKEN_PARAM = re.compile(r"([?&][^=&#\s]*token[^=&#\s]*=)[^&#\s]*", re.IGNORECASE)


class MaskQueryTokens(logging.Filter):
    """Keep tokens in URLs (the setup link) out of the access log.

    uvicorn's access records carry the request's path and query as an
    argument: every parameter named like ``token`` has its value masked.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_PARAM.sub(rf"\g<1>{MASK}", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


async def _setup_token(settings: Settings) -> str | None:
    """The one-time setup token while no user exists (this process keeps it)."""
    manager = await Manager.open(settings)
    try:
        return await auth.setup_token(manager)
    finally:
        await manager.close()


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Proxy headers from the configured proxies only; none by default."""
    proxies = settings.trusted_proxies
    return {
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": ",".join(proxies) if proxies else None,
    }


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    tls_cert: Annotated[
        Path | None, typer.Option(help="Serve HTTPS with this certificate (with --tls-key).")
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option(help="The certificate's private key (with --tls-cert).")
    ] = None,
) -> None:
    """Serve the web GUI and the REST API (/api/v1) until stopped."""
    if (tls_cert is None) != (tls_key is None):
        raise fail(
            InvalidInput(
                "--tls-cert and --tls-key go together",
                hint="give both to serve HTTPS, or neither to serve plain HTTP on loopback",
            ),
            as_json=False,
        )
    tls = tls_cert is not None
    settings = Settings()
    if host not in WILDCARDS and host not in settings.allowed_hosts:
        # The address it listens on is a name requests may use.
        settings = settings.model_copy(update={"allowed_hosts": [*settings.allowed_hosts, host]})
    url = f"{'https' if tls else 'http'}://{host}:{port}"
    token = asyncio.run(_setup_token(settings))
    say(f"clustermgr at [bold]{url}/[/]")
    if not tls and not is_loopback(host):
        say(
            f"[bold yellow]warning:[/] serving plain HTTP on {host}: passwords, session "
            "cookies and API tokens cross the network unencrypted; "
            "use --tls-cert and --tls-key, or a TLS proxy on loopback"
        )
    if token:
        say(f"no user yet: create the first administrator at {url}/setup?token={token}")
        say("  (or run `clustermgr admin create NAME` and sign in)")
    app = create_app(settings, secure_cookies=tls)
    logging.getLogger("uvicorn.access").addFilter(MaskQueryTokens())
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        ssl_certfile=str(tls_cert) if tls else None,
        ssl_keyfile=str(tls_key) if tls else None,
        **uvicorn_options(settings),
    )
