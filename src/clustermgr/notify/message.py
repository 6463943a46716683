"""What one notification says, for people (a line of text, an email) and for programs
(a webhook's JSON): pure, from an alert and the event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import quote


@dataclass(frozen=True)
class Notice:
    """An alert episode's event: ``opened``, ``resolved``, or ``test`` (a channel's test)."""

    event: str
    cluster: str
    component: str
    key: str
    severity: str
    message: str
    opened_at: datetime
    resolved_at: datetime | None = None
    #: The cluster's alerts page, when the manager's address is known; "" otherwise.
    link: str = ""

    @property
    def host(self) -> str:
        """The host the alert is about: its key's subject (``KIND:SUBJECT<-PEER``)."""
        subject = self.key.split("<-", 1)[0]
        return subject.rsplit(":", 1)[-1] if ":" in subject else ""


def duration(seconds: float) -> str:
    """``seconds`` in the largest whole unit that fits: 45 s, 12 min, 3 h, 2 d."""
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{max(0, int(seconds))} s"


def alerts_link(base: str | None, cluster: str) -> str:
    """The cluster's alerts page under the manager's address ``base`` ("" without one)."""
    if not base:
        return ""
    return f"{base.rstrip('/')}/clusters/{quote(cluster, safe='')}/alerts"


def headline(notice: Notice) -> str:
    """One line: what happened, where, how bad."""
    where = f"{notice.cluster}/{notice.component}"
    on = f" on {notice.host}" if notice.host else ""
    if notice.event == "test":
        return f"clustermgr test message: channel works ({where})"
    if notice.event == "resolved":
        lasted = ""
        if notice.resolved_at is not None:
            lasted = f" after {duration((notice.resolved_at - notice.opened_at).total_seconds())}"
        return f"RESOLVED [{notice.severity}] {where}{on}{lasted}: {notice.message}"
    return f"OPENED [{notice.severity}] {where}{on}: {notice.message}"


def text(notice: Notice) -> str:
    """The message's body: the headline, the times and the link."""
    lines = [headline(notice), "", f"cluster: {notice.cluster}", f"component: {notice.component}"]
    if notice.host:
        lines.append(f"host: {notice.host}")
    lines += [
        f"severity: {notice.severity}",
        f"alert: {notice.key}",
        f"opened: {notice.opened_at.isoformat()}",
    ]
    if notice.resolved_at is not None:
        lines.append(f"resolved: {notice.resolved_at.isoformat()}")
    if notice.link:
        lines.append(f"alerts: {notice.link}")
    return "\n".join(lines) + "\n"


def payload(notice: Notice) -> dict[str, Any]:
    """A webhook's JSON: Slack's ``text`` and the same facts as fields."""
    return {
        "text": headline(notice),
        "event": notice.event,
        "cluster": notice.cluster,
        "component": notice.component,
        "host": notice.host,
        "severity": notice.severity,
        "message": notice.message,
        "alert": notice.key,
        "opened_at": notice.opened_at.isoformat(),
        "resolved_at": notice.resolved_at.isoformat() if notice.resolved_at else None,
        "link": notice.link or None,
    }


def email(notice: Notice, *, sender: str, recipients: list[str], at: datetime) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail["Subject"] = " ".join(headline(notice).split())[:200]  # one line, whatever it says
    mail["Date"] = format_datetime(at)
    mail["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    mail.set_content(text(notice))
    return mail
