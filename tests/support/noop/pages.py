"""A cluster's noop page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from clustermgr.web.deps import WebDep
from clustermgr.web.pages.common import render

router = APIRouter()


@router.get("/clusters/{name}/noop", response_class=HTMLResponse)
async def noop_page(request: Request, web: WebDep, name: str) -> Response:
    return render(web, request, "noop/page.html", {"name": name})
