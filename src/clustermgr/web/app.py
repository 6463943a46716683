"""The web app factory: GUI pages, the REST API, static files, one lifespan.

The lifespan opens the manager (database, vault) and the job runner: jobs run
in this process by default (the embedded runner marks jobs a previous process
left running as interrupted), or on queue workers when a queue URL is set.
It also runs the LDAP replication watcher in the background (unless
``CLUSTERMGR_WATCH_ENABLED=false``) and stops it cleanly on shutdown.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from clustermgr import __version__
from clustermgr.auth import service as auth
from clustermgr.jobs.runner import EmbeddedRunner, Runner
from clustermgr.monitor.watcher import BackgroundWatch
from clustermgr.services.context import Manager
from clustermgr.settings import Settings
from clustermgr.web import errors
from clustermgr.web.context import STATIC, TEMPLATES, WebContext
from clustermgr.web.security import SECURITY_HEADERS

log = logging.getLogger(__name__)


def _template_context(request: Request) -> dict[str, Any]:
    session = getattr(request.state, "session", None)
    return {
        "session": session,
        "user": session.user if session else None,
        "csrf_token": session.csrf_token if session else "",
        "version": __version__,
    }


def templates() -> Jinja2Templates:
    return Jinja2Templates(directory=str(TEMPLATES), context_processors=[_template_context])


async def _runner(manager: Manager) -> Runner:
    if manager.settings.queue_url:
        from clustermgr.jobs.worker import QueueRunner

        return QueueRunner(manager.settings.queue_url)
    return await EmbeddedRunner.start(manager)


def create_app(settings: Settings | None = None, *, secure_cookies: bool = False) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        manager = await Manager.open(settings)
        runner = await _runner(manager)
        app.state.web = WebContext(manager, runner, templates(), secure_cookies)
        if await auth.setup_token(manager):
            log.warning("no user yet: open /setup with the token `clustermgr serve` printed")
        watch = BackgroundWatch(manager) if settings.watch_enabled else None
        try:
            yield
        finally:
            if watch is not None:
                await watch.stop()
            await runner.close()
            await manager.close()

    app = FastAPI(
        title="clustermgr",
        version=__version__,
        description="Install and manage a highly available Gluu Server cluster.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # Served by the API router, behind the token like every API route: a
        # public URL here would come first and bypass that guard.
        openapi_url=None,
    )
    errors.install(app)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    from clustermgr.web.api import router as api_router
    from clustermgr.web.pages import router as pages_router

    app.include_router(api_router)
    app.include_router(pages_router)
    return app
