"""The web app factory: GUI pages, the REST API, static files, one lifespan.

The lifespan opens the manager (database, vault) and the job runner: jobs run
in this process by default (the embedded runner marks jobs a previous process
left running as interrupted), or on queue workers when a queue URL is set.
It also runs the watcher (every watched component) and the notification dispatcher
in the background (unless ``CLUSTERMGR_WATCH_ENABLED=false``) and stops them cleanly
on shutdown.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.templating import Jinja2Templates
from starlette.middleware.trustedhost import TrustedHostMiddleware

from clustermgr import __version__
from clustermgr.auth import service as auth
from clustermgr.auth.roles import UserRole
from clustermgr.components import registry
from clustermgr.components.contract import Component, deploy_stages, lifecycle
from clustermgr.core.manager import Manager
from clustermgr.jobs.kinds import KindCatalog
from clustermgr.jobs.runner import EmbeddedRunner, Runner
from clustermgr.monitor.watcher import BackgroundWatch
from clustermgr.notify.dispatcher import BackgroundDispatch
from clustermgr.settings import Settings
from clustermgr.web import errors, exposition
from clustermgr.web.api import api_router
from clustermgr.web.assets import PREFIX, StaticAssets
from clustermgr.web.context import STATIC, TEMPLATES, WebContext
from clustermgr.web.limits import ApiGuard, BodyLimit
from clustermgr.web.pages import around, pages_router
from clustermgr.web.security import SecurityHeaders, allowed_hosts
from clustermgr.words import count

log = logging.getLogger(__name__)


def templates(components: Sequence[Component], assets: StaticAssets) -> Jinja2Templates:
    """The GUI's templates and every component's; pages see the components for links,
    and link static files by ``static_url(name)``."""
    pages = [c for c in components if c.has_page]

    def context(request: Request) -> dict[str, Any]:
        session = getattr(request.state, "session", None)
        return {
            "session": session,
            "user": session.user if session else None,
            "csrf_token": session.csrf_token if session else "",
            # What the signed-in user's role may do: pages offer only those buttons.
            "can_operate": bool(session and session.user.role.allows(UserRole.OPERATOR)),
            "can_admin": bool(session and session.user.role.allows(UserRole.ADMIN)),
            "version": __version__,
            "component_pages": pages,
            # Each component's series of the monitoring, charted on its page.
            "metrics_series": {c.name: c.metrics_series for c in components},
            # Open critical alerts across clusters; None where the page did not count them.
            "open_critical": getattr(request.state, "open_critical", None),
        }

    folders = [TEMPLATES, *(c.templates for c in components if c.templates is not None)]
    made = Jinja2Templates(directory=folders, context_processors=[context])
    made.env.globals["static_url"] = assets.url
    # Links of an event on hosts to the pages showing those hosts around its time.
    made.env.globals["around"] = functools.partial(around.links, components)
    made.env.globals["alert_around"] = functools.partial(around.alert_links, components)
    # They ship with the package: compiled once, never checked for changes on disk.
    made.env.auto_reload = False
    made.env.filters["count"] = count
    return made


async def _runner(manager: Manager, kinds: KindCatalog) -> Runner:
    if manager.settings.queue_url:
        from clustermgr.jobs.queue import QueueRunner

        return QueueRunner(manager.settings.queue_url, kinds)
    return await EmbeddedRunner.start(manager, kinds)


def create_app(
    settings: Settings | None = None,
    *,
    secure_cookies: bool = False,
    components: Sequence[Component] = registry.COMPONENTS,
) -> FastAPI:
    settings = settings or Settings()
    kinds = registry.job_kinds(tuple(components))
    assets = StaticAssets(STATIC)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        manager = await Manager.open(settings)
        runner = await _runner(manager, kinds)
        app.state.web = WebContext(
            manager,
            runner,
            templates(components, assets),
            secure_cookies,
            stages=deploy_stages(components),
            nodes=lifecycle(components),
        )
        if await auth.setup_token(manager):
            log.warning("no user yet: open /setup with the token `clustermgr serve` printed")
        watch = (
            BackgroundWatch(manager, registry.watched(manager, tuple(components)), kinds)
            if settings.watch_enabled
            else None
        )
        # Notifications go out wherever alerts are watched.
        dispatch = BackgroundDispatch(manager) if settings.watch_enabled else None
        try:
            yield
        finally:
            if dispatch is not None:
                await dispatch.stop()
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
    app.mount(PREFIX, assets, name="static")
    # Added innermost first: a request meets the Host check, the headers, the
    # body limit, then the API token, all before the app reads its body.
    app.add_middleware(ApiGuard)
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders, cached_prefix=PREFIX)
    app.add_middleware(
        TrustedHostMiddleware, allowed_hosts=allowed_hosts(settings), www_redirect=False
    )
    app.include_router(api_router(components, kinds))
    app.include_router(pages_router(components))
    app.include_router(exposition.router(components))
    return app
