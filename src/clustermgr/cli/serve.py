"""``clustermgr serve``: the web GUI and the REST API."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from clustermgr.auth import service as auth
from clustermgr.cli.output import say
from clustermgr.core.manager import Manager
from clustermgr.redact import MASK
from clustermgr.web.app import create_app

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


async def _setup_token() -> str | None:
    """The one-time setup token while no user exists (this process keeps it)."""
    manager = await Manager.open()
    try:
        return await auth.setup_token(manager)
    finally:
        await manager.close()


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    tls_cert: Annotated[
        Path | None, typer.Option(help="Serve HTTPS with this certificate.")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="The certificate's private key.")] = None,
) -> None:
    """Serve the web GUI and the REST API (/api/v1) until stopped."""
    tls = tls_cert is not None and tls_key is not None
    url = f"{'https' if tls else 'http'}://{host}:{port}"
    token = asyncio.run(_setup_token())
    say(f"clustermgr at [bold]{url}/[/]")
    if token:
        say(f"no user yet: create the first administrator at {url}/setup?token={token}")
        say("  (or run `clustermgr admin create NAME` and sign in)")
    app = create_app(secure_cookies=tls)
    logging.getLogger("uvicorn.access").addFilter(MaskQueryTokens())
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        ssl_certfile=str(tls_cert) if tls else None,
        ssl_keyfile=str(tls_key) if tls else None,
    )
