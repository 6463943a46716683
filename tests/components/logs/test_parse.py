"""Parsing each source's records: stamps, levels, fields; never an exception."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clustermgr import topology
from clustermgr.components.logs import sources
from clustermgr.components.logs.parse import ACCESS_FORMATS, PARSERS, format_regex, parse
from clustermgr.components.logs.sources import Format, Source
from clustermgr.logstore.records import LEVELS

READ_AT = datetime(2026, 12, 6, 20, 0, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def at(year: int, month: int, day: int, hour: int, minute: int, second: int) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_a_syslog_line_gets_the_year_it_was_read_in_and_its_program() -> None:
    line = "Dec  6 19:55:36 idp1 CRON[4242]: (root) CMD (run-parts /etc/cron.hourly)"
    record = parse(sources.SYSLOG, "idp1", line + "\n", READ_AT)
    assert record.at == at(2026, 12, 6, 19, 55, 36)
    assert (record.host, record.source, record.level) == ("idp1", "syslog", None)
    assert record.message == line
    assert record.fields == {"program": "CRON", "pid": 4242}


def test_the_lab_syslog_zero_pads_the_day() -> None:
    record = parse(sources.SYSLOG, "idp1", "Dec 06 19:55:36 idp1 lab: boot complete", READ_AT)
    assert record.at == at(2026, 12, 6, 19, 55, 36)
    assert record.fields == {"program": "lab"}


def test_a_december_syslog_line_read_in_january_is_from_last_year() -> None:
    january = datetime(2027, 1, 1, 0, 0, 5, tzinfo=UTC)
    record = parse(sources.SYSLOG, "idp1", "Dec 31 23:59:58 idp1 kernel: tick", january)
    assert record.at == at(2026, 12, 31, 23, 59, 58)


def test_a_january_syslog_line_read_in_december_is_from_next_year() -> None:
    """A server clock a little ahead across New Year."""
    december = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    record = parse(sources.SYSLOG, "idp1", "Jan  1 00:00:03 idp1 kernel: tock", december)
    assert record.at == at(2027, 1, 1, 0, 0, 3)


def test_february_29th_goes_to_the_nearest_leap_year_there_is() -> None:
    record = parse(sources.SYSLOG, "idp1", "Feb 29 12:00:00 idp1 x: y", at(2028, 3, 1, 0, 0, 0))
    assert record.at == at(2028, 2, 29, 12, 0, 0)
    # 2026 and its neighbours have none: the line is kept, at the time it was read.
    record = parse(sources.SYSLOG, "idp1", "Feb 29 12:00:00 idp1 x: y", READ_AT)
    assert record.at == READ_AT and record.message == "Feb 29 12:00:00 idp1 x: y"


def test_a_zoneless_stamp_is_in_the_servers_zone() -> None:
    line = "Dec  6 20:55:36 idp1 kernel: eth0 up"
    assert parse(sources.SYSLOG, "idp1", line, READ_AT, tz=BERLIN).at == at(2026, 12, 6, 19, 55, 36)
    july = "2026-07-01 12:00:00,500 INFO  [main] [org.gluu.X] (X.java:1) - summer"
    record = parse(sources.OXAUTH, "idp1", july, READ_AT, tz=BERLIN)
    assert record.at == datetime(2026, 7, 1, 10, 0, 0, 500000, tzinfo=UTC)
    assert record.at.tzinfo is UTC


def test_an_rfc3339_syslog_line_keeps_its_own_offset() -> None:
    line = "2026-12-06T20:55:36.123456+01:00 idp1 sshd[77]: Accepted publickey for root"
    record = parse(sources.AUTH, "idp1", line, READ_AT, tz=ZoneInfo("America/New_York"))
    assert record.at == datetime(2026, 12, 6, 19, 55, 36, 123456, tzinfo=UTC)
    assert record.fields == {"program": "sshd", "pid": 77}
    assert record.level is None
    zulu = parse(sources.SYSLOG, "idp1", "2026-12-06T19:55:36Z idp1 x: y", READ_AT)
    assert zulu.at == at(2026, 12, 6, 19, 55, 36)


@pytest.mark.parametrize(
    ("message", "level"),
    [
        ("Failed password for root from 192.0.2.9 port 4022 ssh2", "warning"),
        ("Invalid user admin from 192.0.2.9 port 4022", "warning"),
        ("error: kex_exchange_identification: Connection closed by remote host", "error"),
        ("Accepted publickey for root from 192.0.2.9 port 4022 ssh2", None),
    ],
)
def test_sshd_failed_logins_are_warnings(message: str, level: str | None) -> None:
    record = parse(sources.AUTH, "idp1", f"Dec  6 19:55:36 idp1 sshd[77]: {message}", READ_AT)
    assert record.level == level


def test_slapd_keeps_its_connection_and_operation() -> None:
    line = (
        'Dec  6 19:55:36 idp1 slapd[812]: conn=1004 op=2 SRCH base="o=gluu" scope=2 '
        'deref=0 filter="(uid=admin)"'
    )
    record = parse(sources.SYSLOG, "idp1", line, READ_AT)
    assert record.fields == {"program": "slapd", "pid": 812, "conn": 1004, "op": 2}
    assert record.source == sources.SLAPD == "slapd", "source:slapd finds it"
    other = parse(sources.SYSLOG, "idp1", "Dec  6 19:55:36 idp1 cron[9]: tick", READ_AT)
    assert other.source == "syslog"
    accept = "Dec  6 19:55:36 idp1 slapd[812]: conn=1004 fd=14 ACCEPT from IP=10.0.0.1:5 (IP=0.0.0.0:389)"
    assert parse(sources.SYSLOG, "idp1", accept, READ_AT).fields["conn"] == 1004
    assert "op" not in parse(sources.SYSLOG, "idp1", accept, READ_AT).fields


def journal_entry(**extra: object) -> str:
    entry = {
        "__CURSOR": "s=abc;i=1",
        "__REALTIME_TIMESTAMP": "1796586936123456",
        "PRIORITY": "6",
        "SYSLOG_IDENTIFIER": "slapd",
        "_PID": "812",
        "_SYSTEMD_UNIT": "slapd.service",
        "MESSAGE": "conn=1000 op=1 RESULT tag=97 err=0 text=",
        **extra,
    }
    return json.dumps(entry)


def test_a_journal_entry_reads_its_stamp_priority_and_program() -> None:
    record = parse(sources.JOURNAL, "idp1", journal_entry(), READ_AT)
    assert record.at == datetime.fromtimestamp(1796586936.123456, UTC)
    assert record.level == "info"
    assert record.message == "slapd[812]: conn=1000 op=1 RESULT tag=97 err=0 text="
    assert record.source == "slapd"
    assert record.fields == {
        "unit": "slapd.service",
        "program": "slapd",
        "pid": 812,
        "conn": 1000,
        "op": 1,
    }


@pytest.mark.parametrize(
    ("priority", "level"), [("0", "critical"), ("3", "error"), ("4", "warning"), ("7", "debug")]
)
def test_journal_priorities_map_to_levels(priority: str, level: str) -> None:
    assert parse(sources.JOURNAL, "idp1", journal_entry(PRIORITY=priority), READ_AT).level == level


def test_a_binary_journal_message_is_escaped_and_sshd_failures_still_warn() -> None:
    raw = list(b"Failed password for \xff from 192.0.2.9")
    text = journal_entry(MESSAGE=raw, SYSLOG_IDENTIFIER="sshd", _SYSTEMD_UNIT="ssh.service")
    record = parse(sources.JOURNAL, "idp1", text, READ_AT)
    assert record.message == "sshd[812]: Failed password for \\xff from 192.0.2.9"
    assert record.level == "warning"


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1, 2]",
        '{"PRIORITY": "9", "__REALTIME_TIMESTAMP": "x"}',
        # Digits str.isdigit takes and int() refuses.
        '{"PRIORITY": "\u00b2", "__REALTIME_TIMESTAMP": "\u00b2", "_PID": "\u00b9"}',
    ],
)
def test_an_odd_journal_line_is_kept(text: str) -> None:
    record = parse(sources.JOURNAL, "idp1", text, READ_AT)
    assert record.at == READ_AT and record.level is None


def test_a_log4j_record_keeps_its_stack_trace() -> None:
    text = (
        "2026-11-27 00:10:00,123 ERROR [qtp1-3] [org.gluu.oxauth.auth.Authenticator]"
        " (Authenticator.java:212) - authentication failed\n"
        "java.lang.IllegalStateException: no session\n"
        "\tat org.gluu.oxauth.auth.Authenticator.authenticate(Authenticator.java:212)\n"
    )
    record = parse(sources.OXAUTH, "idp1", text, READ_AT)
    assert record.at == datetime(2026, 11, 27, 0, 10, 0, 123000, tzinfo=UTC)
    assert record.level == "error"
    assert record.fields == {"logger": "org.gluu.oxauth.auth.Authenticator"}
    assert record.message == text.rstrip("\n")
    assert record.message.count("\n") == 2


@pytest.mark.parametrize(
    ("word", "level"),
    [("WARN ", "warning"), ("INFO ", "info"), ("FATAL", "critical"), ("DEBUG", "debug")],
)
def test_log4j_levels(word: str, level: str) -> None:
    line = f"2026-11-27 00:10:00,123 {word} [main] [org.gluu.X] (X.java:1) - hello"
    assert parse(sources.OXAUTH_AUDIT, "idp1", line, READ_AT).level == level


PROXY_LINE = (
    '192.0.2.7 - - [06/Dec/2026:20:55:36 +0100] "GET /oxauth/authorize?client_id=x&code=y HTTP/1.1"'
    ' 502 157 "https://idp.example.org/" "Mozilla/5.0 (X11; Linux x86_64)" 0.031'
    ' "10.0.0.11:443, 10.0.0.12:443"'
)


def test_an_nginx_access_line_in_the_proxys_format() -> None:
    record = parse(sources.NGINX_ACCESS, "lb", PROXY_LINE, READ_AT)
    assert record.at == at(2026, 12, 6, 19, 55, 36)
    assert record.level == "error"
    assert record.fields == {
        "client": "192.0.2.7",
        "method": "GET",
        "path": "/oxauth/authorize",
        "status": 502,
        "bytes": 157,
        "request_time": 0.031,
        "upstream": "10.0.0.11:443, 10.0.0.12:443",
    }


def test_a_combined_access_line_of_a_web_front() -> None:
    line = (
        '10.0.0.5 - - [06/Dec/2026:19:55:36 +0000] "POST /oxauth/restv1/token HTTP/1.1" 404 0'
        ' "-" "curl/8.5.0"'
    )
    record = parse(sources.NGINX_FRONT_ACCESS, "idp1", line, READ_AT)
    assert record.source == "web-access" and record.level == "warning"
    assert record.fields == {
        "client": "10.0.0.5",
        "method": "POST",
        "path": "/oxauth/restv1/token",
        "status": 404,
        "bytes": 0,
    }


def test_an_access_line_with_a_garbage_request_keeps_its_status() -> None:
    line = '192.0.2.9 - - [06/Dec/2026:19:55:36 +0000] "\\x16\\x03\\x01\\x00" 400 157 "-" "-" 0.000 "-"'
    record = parse(sources.NGINX_ACCESS, "lb", line, READ_AT)
    assert record.fields == {
        "client": "192.0.2.9",
        "status": 400,
        "bytes": 157,
        "request_time": 0.0,
    }


def test_the_proxys_access_lines_are_read_by_every_variable_of_its_format() -> None:
    assert ACCESS_FORMATS[0].pattern.count("(?P<") == topology.NGINX_ACCESS_FORMAT.count("$")
    assert set(ACCESS_FORMATS[0].groupindex) >= {"request_time", "status", "request"}


def test_the_access_regex_follows_the_format_text() -> None:
    pattern = format_regex('$remote_addr [$time_local] "$request" $status')
    m = pattern.fullmatch('1.2.3.4 [06/Dec/2026:19:55:36 +0000] "GET / HTTP/1.1" 200')
    assert m is not None and m["request"] == "GET / HTTP/1.1" and m["status"] == "200"
    assert pattern.fullmatch('1.2.3.4 [x] "GET /" 200 extra') is None


def test_an_nginx_error_line() -> None:
    line = (
        "2026/12/06 19:55:36 [error] 1234#1234: *5 connect() failed (111: Connection refused)"
        ' while connecting to upstream, client: 192.0.2.7, server: lb.example.org, request: "GET / HTTP/1.1"'
    )
    record = parse(sources.NGINX_ERROR, "lb", line, READ_AT)
    assert (record.at, record.level) == (at(2026, 12, 6, 19, 55, 36), "error")
    assert record.fields == {"client": "192.0.2.7"}
    crit = parse(sources.NGINX_ERROR, "lb", "2026/12/06 19:55:36 [crit] 1#1: x", READ_AT)
    assert crit.level == "critical"
    warn = parse(sources.NGINX_ERROR, "lb", "2026/12/06 19:55:36 [warn] 1#1: x", READ_AT)
    assert warn.level == "warning"


def test_an_apache_error_line() -> None:
    line = (
        "[Sun Dec 06 19:55:36.123456 2026] [proxy_http:error] [pid 3412:tid 1400] "
        "[client 192.0.2.7:51234] AH01114: HTTP: failed to make connection to backend"
    )
    record = parse(sources.APACHE_ERROR, "idp1", line, READ_AT)
    assert record.at == datetime(2026, 12, 6, 19, 55, 36, 123456, tzinfo=UTC)
    assert record.level == "error" and record.fields == {"client": "192.0.2.7"}
    old = parse(sources.APACHE_ERROR, "idp1", "[Sun Dec 06 19:55:36 2026] [warn] x", READ_AT)
    assert old.level == "warning"


@pytest.mark.parametrize(
    ("mark", "level"), [("*", "notice"), ("#", "warning"), (".", "debug"), ("-", "debug")]
)
def test_a_redis_line(mark: str, level: str) -> None:
    line = f"1234:M 06 Dec 2026 19:55:36.123 {mark} Ready to accept connections tcp"
    record = parse(sources.REDIS, "idp1", line, READ_AT)
    assert record.at == datetime(2026, 12, 6, 19, 55, 36, 123000, tzinfo=UTC)
    assert record.level == level


@pytest.mark.parametrize(("priority", "level"), [("3", "error"), ("5", "notice"), ("7", "debug")])
def test_a_stunnel_line(priority: str, level: str) -> None:
    line = (
        f"2026.12.06 19:55:36 LOG{priority}[0]: Service [redis] accepted connection from 10.0.0.9:5"
    )
    record = parse(sources.STUNNEL_REDIS, "idp1", line, READ_AT)
    assert (record.at, record.level, record.source) == (
        at(2026, 12, 6, 19, 55, 36),
        level,
        "stunnel-redis",
    )


def test_a_nutcracker_line_has_a_stamp_and_no_level() -> None:
    line = "[2026-12-06 19:55:36.123] nc_proxy.c:217 p 8 listening on '127.0.0.1:2222' in redis pool 0 'gluu'"
    record = parse(sources.NUTCRACKER, "lb", line, READ_AT)
    assert record.at == datetime(2026, 12, 6, 19, 55, 36, 123000, tzinfo=UTC)
    assert record.level is None


GARBAGE = [
    "",
    "\x00\x01\x02",
    "Server listening on 0.0.0.0 port 22.",
    "Dec 99 99:99:99 host x: y",
    "Foo  6 19:55:36 host x: y",
    "2026-13-45T25:61:61+99:99 host x: y",
    "2026-02-30 00:00:00,000 INFO  [t] [l] - no such day",
    '1.2.3.4 - - [31/Feb/2026:19:55:36 +9999] "GET / HTTP/1.1" 200 1 "-" "-" 0.1 "-"',
    "2026/99/06 19:55:36 [error] 1#1: x",
    "[Sun Foo 06 19:55:36 2026] [error] x",
    "1234:M 32 Dec 2026 19:55:36.123 * x",
    "2026.12.06 29:55:36 LOG5[0]: x",
    "[2026-12-06 19:55:36.1234567] x",
    "\\xff\\xfe backslash-escaped binary",
]


@pytest.mark.parametrize("fmt", list(Format))
@pytest.mark.parametrize("text", GARBAGE)
def test_an_unreadable_line_is_kept_at_the_time_it_was_read(fmt: Format, text: str) -> None:
    source = Source("x", "x", fmt, "/var/log/x")
    record = parse(source, "h", text, READ_AT)
    assert record.message == text
    assert record.at.tzinfo is not None
    if record.at != READ_AT:  # a partly readable line still carries a real time
        assert abs(record.at - READ_AT) < timedelta(days=400)


@given(st.sampled_from(list(Format)), st.text(max_size=300))
def test_the_parser_never_raises(fmt: Format, text: str) -> None:
    record = parse(Source("x", "x", fmt, "/var/log/x"), "h", text, READ_AT)
    assert record.level is None or record.level in LEVELS


def test_every_format_has_a_parser() -> None:
    assert set(PARSERS) == set(Format)
