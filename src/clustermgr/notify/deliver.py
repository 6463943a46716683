"""Sending one notice through one channel, its password opened from the vault."""

from __future__ import annotations

from typing import Any

from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.notify import message, send
from clustermgr.notify.channels import EmailSettings, Kind, WebhookSettings
from clustermgr.notify.message import Notice
from clustermgr.redact import Secret


def password_of(manager: Manager, name: str, ciphertext: bytes | None) -> Secret | None:
    """The channel's SMTP password (held: registered for redaction), or None."""
    if ciphertext is None:
        return None
    return manager.vault.open(ciphertext, label=f"notify.{name}").get("password")


async def deliver(
    manager: Manager,
    *,
    name: str,
    kind: str,
    config: dict[str, Any],
    ciphertext: bytes | None,
    notice: Notice,
) -> None:
    """Send ``notice`` now; DeliveryFailed says why it did not arrive."""
    timeout = manager.settings.notify_timeout
    if kind == Kind.EMAIL:
        settings = EmailSettings.model_validate(config)
        mail = message.email(
            notice, sender=settings.sender, recipients=list(settings.recipients), at=utcnow()
        )
        await send.send_email(
            settings, password_of(manager, name, ciphertext), mail, timeout=timeout
        )
    else:
        hook = WebhookSettings.model_validate(config)
        await send.post_webhook(hook, message.payload(notice), timeout=timeout)
