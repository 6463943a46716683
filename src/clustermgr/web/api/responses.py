"""The error answers a route can give, declared once for the OpenAPI spec."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from clustermgr.web.api.models import ErrorPublic

DESCRIPTIONS = {
    400: "Invalid input (a malformed name, an unknown job kind...).",
    401: "No valid API token (`Authorization: Bearer <token>`).",
    403: "Refused: the token's role does not allow it (viewer, operator, admin).",
    404: "No such resource.",
    409: "Conflicts with the current state (exists already, another job is changing "
    "the cluster, a host key to confirm).",
    422: "The request does not match the schema.",
    429: "Too many requests; see Retry-After.",
    502: "A server could not be reached or refused the login.",
    503: "The database is unavailable or locked; retry.",
}


def errors(*codes: int, **models: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for these status codes; ``models`` overrides a body (``c409=...``)."""
    return {
        code: {
            "model": models.get(f"c{code}", ErrorPublic),
            "description": DESCRIPTIONS[code],
        }
        for code in codes
    }
