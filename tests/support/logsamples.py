"""Realistic log records for the log store's tests and benchmark: syslog, slapd,
NGINX access (with 502s), and oxAuth log4j lines with a Java stack trace."""

from __future__ import annotations

from datetime import datetime, timedelta

from clustermgr.logstore.records import FieldValue, LogRecord

TRACE = (
    "2026-12-06 10:00:03,120 ERROR [qtp-17] [org.gluu.oxauth.service.SessionIdService] "
    "(SessionIdService.java:412) - Failed to persist session 5f0c2b9e-3c1d-4f7a-9b2e-7d1a0c4e8f21\n"
    "java.net.SocketTimeoutException: Read timed out\n"
    "\tat java.net.SocketInputStream.socketRead0(Native Method)\n"
    "\tat org.gluu.persist.ldap.impl.LdapEntryManager.merge(LdapEntryManager.java:233)"
)

#: (host, source, level, message, fields) of each sample, oldest first.
SAMPLES: list[tuple[str, str, str | None, str, dict[str, FieldValue]]] = [
    ("idp1", "syslog", "info", "idp1 systemd[1]: Started Session 42 of user root.", {}),
    ("idp1", "syslog", "error", "idp1 sshd[811]: error: connect from 10.0.0.5 refused", {}),
    (
        "idp1",
        "slapd",
        None,
        'conn=1001 op=2 BIND dn="cn=directory manager,o=gluu" method=128',
        {"conn": 1001, "op": 2},
    ),
    ("idp1", "slapd", None, 'conn=1001 op=3 SRCH base="o=gluu" scope=2', {"conn": 1001}),
    ("idp2", "slapd", None, "conn=10010 op=1 UNBIND", {"conn": 10010}),
    (
        "lb",
        "nginx-access",
        None,
        '10.0.0.5 - - [06/Dec/2026:10:00:01 +0000] "POST /oxauth/restv1/token HTTP/1.1" '
        '502 157 "-" "curl/7.88"',
        {"status": 502, "method": "POST", "path": "/oxauth/restv1/token"},
    ),
    (
        "lb",
        "nginx-access",
        None,
        '10.0.0.50 - - [06/Dec/2026:10:00:02 +0000] "GET /identity/home.htm HTTP/1.1" '
        '200 5120 "-" "Mozilla/5.0"',
        {"status": 200, "method": "GET", "path": "/identity/home.htm"},
    ),
    ("idp1", "oxauth", "error", TRACE, {}),
    (
        "idp2",
        "oxauth",
        "info",
        "2026-12-06 10:00:04,001 INFO [qtp-3] [org.gluu.oxauth.auth.Authenticator] "
        "(Authenticator.java:120) - Authentication success for user admin",
        {},
    ),
    ("idp2", "syslog", "warning", "idp2 kernel: connection refused by peer timed out", {}),
]

START = datetime.fromisoformat("2026-12-06T10:00:00+00:00")


def sample_records(
    start: datetime = START, step: timedelta = timedelta(seconds=1)
) -> list[LogRecord]:
    return [
        LogRecord(start + step * i, host, source, level, message, fields)
        for i, (host, source, level, message, fields) in enumerate(SAMPLES)
    ]
