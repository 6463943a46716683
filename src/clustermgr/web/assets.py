"""The GUI's static files, served from memory with long-lived caching.

They ship with the package and change only with a new version, so they are read
once, when the app is made.  Pages link each file through :meth:`StaticAssets.url`
(templates: ``static_url('app.css')``), which adds the hash of its content:
``/static/app.css?v=3f2a...``.  A browser keeps that URL for a year without asking
again (``Cache-Control: public, max-age=31536000, immutable``); a changed file gets
a new URL.  A request without the current hash (a page of an older version, a
typed URL) gets the file with ``Cache-Control: no-cache`` and its ETag, so it
revalidates; an ``If-None-Match`` with the ETag is answered 304.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

#: Where the files are served.
PREFIX = "/static"
#: A versioned URL's caching: a year, never revalidated.
IMMUTABLE = "public, max-age=31536000, immutable"
#: Any other URL of a file: kept, but revalidated before each use.
REVALIDATE = "no-cache"


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    #: The first 16 hex digits of the content's SHA-256.
    version: str

    @classmethod
    def read(cls, path: Path) -> Asset:
        body = path.read_bytes()
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return cls(body, media_type, hashlib.sha256(body).hexdigest()[:16])

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


class StaticAssets:
    """Every file under ``directory``, as an ASGI app to mount at :data:`PREFIX`."""

    def __init__(self, directory: Path) -> None:
        self.files = {
            path.relative_to(directory).as_posix(): Asset.read(path)
            for path in sorted(directory.rglob("*"))
            if path.is_file()
        }

    def url(self, name: str) -> str:
        """The versioned URL of the file ``name`` (``app.css``, ``vendor/...``)."""
        asset = self.files.get(name)
        if asset is None:
            raise LookupError(f"no static file {name!r}")
        return f"{PREFIX}/{name}?v={asset.version}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.answer(scope)
        await response(scope, receive, send)

    def answer(self, scope: Scope) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            return PlainTextResponse("Method Not Allowed", 405, headers={"Allow": "GET, HEAD"})
        name = _route_path(scope).lstrip("/")
        asset = self.files.get(name)
        if asset is None:
            return PlainTextResponse("Not Found", 404)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        current = query.get("v") == [asset.version]
        headers = {"ETag": asset.etag, "Cache-Control": IMMUTABLE if current else REVALIDATE}
        if asset.etag in _if_none_match(scope):
            return Response(status_code=304, headers=headers)
        return Response(asset.body, media_type=asset.media_type, headers=headers)


def _route_path(scope: Scope) -> str:
    """The path below the mount point."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root + "/") else path


def _if_none_match(scope: Scope) -> list[str]:
    values = [v.decode("latin-1") for k, v in scope["headers"] if k == b"if-none-match"]
    return [tag.strip() for value in values for tag in value.split(",")]
