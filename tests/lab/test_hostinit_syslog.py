"""The lab host's syslog: what a datagram on /dev/log becomes in /var/log/syslog."""

from __future__ import annotations

import pytest

from clustermgr.lab.hostinit import syslog_file, syslog_line

STAMP = "Dec 06 20:07:16"


@pytest.mark.parametrize(
    "datagram",
    [
        b"<86>Dec  6 20:07:15 sshd[41]: session opened for user root",
        b"<86>Dec 16 20:07:15 sshd[41]: session opened for user root",
        b"<86>sshd[41]: session opened for user root",
    ],
)
def test_the_senders_priority_and_stamp_give_way_to_the_receivers(datagram: bytes) -> None:
    line = syslog_line(datagram, "idp1.lab.test", STAMP)
    assert line == b"Dec 06 20:07:16 idp1.lab.test sshd[41]: session opened for user root\n"


def test_a_datagram_without_a_head_is_kept_as_it_is() -> None:
    line = syslog_line(b"lab: a <12> in the text\n", "idp1", STAMP)
    assert line == b"Dec 06 20:07:16 idp1 lab: a <12> in the text\n"


def test_a_multi_line_message_stays_on_one_line() -> None:
    datagram = b"<166>slapd[276]: @(#) $OpenLDAP: slapd 2.5.13 $\n\tDebian OpenLDAP Maintainers\n"
    line = syslog_line(datagram, "idp1", STAMP)
    assert line == (
        b"Dec 06 20:07:16 idp1 slapd[276]: @(#) $OpenLDAP: slapd 2.5.13 $#012#011Debian"
        b" OpenLDAP Maintainers\n"
    )


@pytest.mark.parametrize(
    ("priority", "path"),
    [
        (b"<38>", "/var/log/auth.log"),  # auth.info (sshd)
        (b"<86>", "/var/log/auth.log"),  # authpriv.info (PAM)
        (b"<166>", "/var/log/syslog"),  # local4.info (slapd)
        (b"<30>", "/var/log/syslog"),  # daemon.info
        (b"", "/var/log/syslog"),
    ],
)
def test_logins_go_to_auth_log_as_on_debian(priority: bytes, path: str) -> None:
    assert syslog_file(priority + b"sshd[41]: Accepted publickey for root") == path
