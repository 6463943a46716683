"""Sending one message: email over SMTP (STARTTLS), or a webhook's JSON over HTTP(S).

Each failure becomes :class:`DeliveryFailed` in plain words (connection refused,
no answer, a TLS failure, authentication failed, the receiver's status), naming
the relay or the receiver's host, never a password or the webhook's path.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx

from clustermgr.errors import DeliveryFailed
from clustermgr.notify.channels import EmailSettings, WebhookSettings
from clustermgr.redact import Secret, redact


def _words(exc: BaseException, timeout: float) -> str:
    """What went wrong, for a person."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS failure: {exc.verify_message or 'the certificate is not trusted'}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failure: {exc.reason or exc}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"authentication failed (the relay answered {exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"the relay refused the recipients {', '.join(sorted(exc.recipients))}"
    if isinstance(exc, smtplib.SMTPResponseException):
        said = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        return f"the relay answered {exc.smtp_code} {said}".strip()
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the relay closed the connection"
    if isinstance(exc, httpx.ConnectError):
        cause = _cause(exc)
        return _words(cause, timeout) if cause is not None else f"cannot connect: {exc}"
    if isinstance(exc, OSError):
        return f"cannot connect: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"


def _causes(exc: BaseException) -> list[BaseException]:
    """Every error behind ``exc``: its causes, and the members of a group among them."""
    found: list[BaseException] = []
    todo = [exc.__cause__ or exc.__context__]
    while todo:
        seen = todo.pop(0)
        if seen is None or seen in found:
            continue
        found.append(seen)
        if isinstance(seen, BaseExceptionGroup):
            todo += list(seen.exceptions)
        todo.append(seen.__cause__ or seen.__context__)
    return found


def _cause(exc: BaseException) -> BaseException | None:
    """The network error behind a client library's own: refused, TLS, a timeout first."""
    causes = _causes(exc)
    plain = (ConnectionRefusedError, ssl.SSLError, TimeoutError)
    return next((c for c in causes if isinstance(c, plain)), None) or next(
        (c for c in causes if isinstance(c, OSError)), None
    )


async def send_email(
    settings: EmailSettings, password: Secret | None, mail: EmailMessage, *, timeout: float
) -> None:
    """Send ``mail`` through the relay (in a thread: smtplib blocks), bounded by ``timeout``
    per network operation."""

    def send() -> None:
        with smtplib.SMTP(settings.host, settings.port, timeout=timeout) as smtp:
            smtp.ehlo()
            if settings.starttls:
                if not smtp.has_extn("starttls"):
                    raise DeliveryFailed(
                        settings.host,
                        "the relay does not offer STARTTLS",
                        hint="use a relay that offers STARTTLS (or turn STARTTLS off for a "
                        "relay on this machine)",
                    )
                smtp.starttls(context=ssl.create_default_context(cafile=settings.ca_file))
                smtp.ehlo()
            if settings.username:
                if password is None:
                    raise DeliveryFailed(settings.host, "no SMTP password is stored")
                smtp.login(settings.username, password.reveal())
            smtp.send_message(mail)

    try:
        await asyncio.to_thread(send)
    except DeliveryFailed:
        raise
    except Exception as exc:
        words = _words(exc, timeout)
        raise DeliveryFailed(
            f"{settings.host}:{settings.port}", redact(words, *([password] if password else []))
        ) from None


async def post_webhook(settings: WebhookSettings, body: dict[str, Any], *, timeout: float) -> None:
    """POST ``body`` as JSON; any status but 2xx is a failure (redirects are not followed)."""
    host = urlsplit(settings.url).netloc
    try:
        async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
            answer = await client.post(settings.url, json=body)
    except Exception as exc:
        raise DeliveryFailed(host, _words(exc, timeout)) from None
    if not answer.is_success:
        raise DeliveryFailed(host, f"the receiver answered HTTP {answer.status_code}")
