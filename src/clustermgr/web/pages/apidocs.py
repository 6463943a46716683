"""The REST API's documentation for signed-in users: Swagger UI, served from our own files.

The OpenAPI document under ``/api/v1`` needs a token like every API route; the
page reads the same document through the session instead.  Trying a call from
the page needs a token (Swagger UI's "Authorize"), as any API client does.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from clustermgr.web.deps import WebDep
from clustermgr.web.pages.common import render

router = APIRouter()


@router.get("/api-docs", response_class=HTMLResponse)
async def api_docs(request: Request, web: WebDep) -> Response:
    return render(web, request, "api_docs.html")


@router.get("/api-docs/openapi.json")
async def api_document(request: Request) -> dict[str, Any]:
    """The API's OpenAPI document, for the page (a session instead of a token)."""
    spec: dict[str, Any] = request.app.openapi()
    return spec
