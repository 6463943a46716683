"""Requests and answers apart from HTTP, and the errors that become answers.

The application (:mod:`.app`) takes a :class:`Request` and returns a
:class:`Response`, so it is tested without sockets or TLS; every error is an
:class:`AppError` with an HTTP status and an OAuth error code, which gives every
failure one shape: ``{"error": ..., "error_description": ...}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    content_type: str
    body: bytes
    client_ip: str


@dataclass(frozen=True)
class Response:
    status: int
    body: Mapping[str, Any]


class AppError(Exception):
    """An answer other than success; every one has the OAuth error shape."""

    status = 500
    error = "server_error"

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class BadRequest(AppError):
    status, error = 400, "invalid_request"


class InvalidCredentials(AppError):
    status, error = 401, "invalid_credentials"


class NotFound(AppError):
    status, error = 404, "not_found"


class MethodNotAllowed(AppError):
    status, error = 405, "method_not_allowed"


class Unavailable(AppError):
    status, error = 503, "temporarily_unavailable"
