"""What a notification says (pure): the host from the alert's key, the headline, the
webhook's fields, a one-line subject whatever the message holds, the link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clustermgr.notify.channels import takes
from clustermgr.notify.message import Notice, email, headline, payload

OPENED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def notice(**changes: object) -> Notice:
    values: dict[str, object] = {
        "event": "opened",
        "cluster": "prod",
        "component": "ldap",
        "key": "agreement:idp1.example.org<-idp2.example.org",
        "severity": "critical",
        "message": "idp1 cannot reach idp2",
        "opened_at": OPENED,
    }
    return Notice(**{**values, **changes})  # type: ignore[arg-type]


def test_the_host_is_the_keys_subject() -> None:
    assert notice().host == "idp1.example.org"
    assert notice(key="repair:stunnel4:idp2").host == "idp2"
    assert notice(key="cluster-wide").host == ""


def test_headline_and_webhook_fields() -> None:
    resolved = notice(event="resolved", resolved_at=OPENED + timedelta(minutes=12))
    assert headline(resolved) == (
        "RESOLVED [critical] prod/ldap on idp1.example.org after 12 min: idp1 cannot reach idp2"
    )
    body = payload(notice(link="https://m.example.org/clusters/prod/alerts"))
    assert body["text"] == "OPENED [critical] prod/ldap on idp1.example.org: idp1 cannot reach idp2"
    assert body["host"] == "idp1.example.org" and body["resolved_at"] is None
    assert body["opened_at"] == OPENED.isoformat() and body["link"].endswith("/prod/alerts")


def test_a_message_over_several_lines_makes_a_one_line_subject() -> None:
    mail = email(
        notice(message="first line\nBcc: someone@example.org"),
        sender="c@example.org",
        recipients=["a@example.org"],
        at=OPENED,
    )
    assert "\n" not in str(mail["Subject"]) and mail["Bcc"] is None
    assert "Bcc: someone@example.org" in mail.get_content()


def test_severity_filters() -> None:
    assert takes("warning", "critical") and takes("warning", "warning")
    assert not takes("critical", "warning") and takes("info", "warning")
    assert takes("critical", "a-severity-not-known-yet")
