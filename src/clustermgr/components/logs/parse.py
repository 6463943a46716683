"""A source's record text to a :class:`LogRecord`: its time, level and fields.

Each :class:`~clustermgr.components.logs.sources.Format` has its parser.  A parser
reads the record's first line (the lines after it, a Java stack trace, stay in the
message); what it cannot read it leaves out: a record whose line matches no known
layout is kept whole, with the time it was read and no level.  :func:`parse` never
raises on a record's text.

Stamps without a zone (syslog's, log4j's, NGINX's error log, Redis', stunnel's,
twemproxy's) are in the server's local time, ``tz`` (UTC unless the caller knows
better); syslog's stamp has no year either: the year that puts it nearest to when
it was read is taken (a December line read in January is last year's).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import TypeGuard

from clustermgr import topology
from clustermgr.components.logs.sources import SLAPD, Format, Source
from clustermgr.logstore.records import FieldValue, LogRecord

MONTHS: Mapping[str, int] = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_MONTH = "(?P<month>" + "|".join(MONTHS) + ")"

#: syslog's priorities (the journal's PRIORITY, stunnel's LOGn), 0 (emerg) to 7 (debug).
SYSLOG_PRIORITIES: tuple[str, ...] = (
    "critical",
    "critical",
    "critical",
    "error",
    "warning",
    "notice",
    "info",
    "debug",
)
#: log4j's, NGINX's and Apache's level names (lower case).
NAMED_LEVELS: Mapping[str, str] = {
    "trace": "debug",
    "debug": "debug",
    "info": "info",
    "notice": "notice",
    "warn": "warning",
    "warning": "warning",
    "error": "error",
    "crit": "critical",
    "alert": "critical",
    "emerg": "critical",
    "fatal": "critical",
}
#: Redis' marks: debug, verbose, notice, warning.
REDIS_MARKS: Mapping[str, str] = {".": "debug", "-": "debug", "*": "notice", "#": "warning"}


@dataclass
class Parsed:
    """What a format's parser read out of a record: all of it optional."""

    at: datetime | None = None
    level: str | None = None
    fields: dict[str, FieldValue] = field(default_factory=dict)
    #: The message when it is not the record's text (a journal entry's).
    message: str | None = None
    #: The source the record is stored as when it is not the one it was read from
    #: (slapd's records, read from syslog or the journal).
    source: str | None = None


Parser = Callable[[str, tzinfo, datetime], Parsed]


def parse(
    source: Source, host: str, text: str, read_at: datetime, *, tz: tzinfo = UTC
) -> LogRecord:
    """The record ``text`` read from ``source`` on ``host`` at ``read_at`` (aware).

    ``tz`` is the server's zone, for the stamps that carry none.
    """
    text = text.rstrip("\r\n")
    parsed = PARSERS[source.format](text, tz, read_at)
    at = parsed.at if parsed.at is not None else read_at
    return LogRecord(
        at=at.astimezone(UTC),
        host=host,
        source=parsed.source or source.id,
        level=parsed.level,
        message=parsed.message if parsed.message is not None else text,
        fields=parsed.fields,
    )


# --- stamps ----------------------------------------------------------------------------


def _stamp(
    zone: tzinfo,
    year: int | str,
    month: int | str,
    day: int | str,
    hms: str,
    fraction: str | None = None,
) -> datetime | None:
    """The time ``hms`` (``HH:MM:SS``) on that day, or None when it is no time (a 31 June)."""
    hour, minute, second = (int(p) for p in hms.split(":"))
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return datetime(int(year), int(month), int(day), hour, minute, second, micro, zone)
    except ValueError:
        return None


def _nearest_year(month: int, day: int, hms: str, tz: tzinfo, read_at: datetime) -> datetime | None:
    """A stamp without a year, in the year that puts it nearest to ``read_at``."""
    years = (read_at.year - 1, read_at.year, read_at.year + 1)
    found = [s for y in years if (s := _stamp(tz, y, month, day, hms)) is not None]
    return min(found, key=lambda s: abs(s - read_at), default=None)


def _offset(text: str) -> tzinfo | None:
    """``+0100`` or ``-05:30`` as a fixed zone; None when out of range."""
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4])
    if hours > 23 or minutes > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0]


# --- syslog and the journal ------------------------------------------------------------

_HMS = r"(?P<hms>\d{2}:\d{2}:\d{2})"
_BSD = re.compile(rf"{_MONTH} {{1,2}}(?P<day>\d{{1,2}}) {_HMS} (?P<rest>.*)")
_RFC3339 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})T" + _HMS + r"(?:\.(?P<fraction>\d{1,9}))?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2}) (?P<rest>.*)"
)
#: ``host program[pid]: message`` after the stamp.
_TAG = re.compile(r"(?P<host>\S+) (?P<program>[^\s\[:]+)(?:\[(?P<pid>\d{1,10})\])?: (?P<msg>.*)")


def parse_syslog(text: str, tz: tzinfo, read_at: datetime) -> Parsed:
    line = _first_line(text)
    parsed = Parsed()
    if m := _BSD.match(line):
        parsed.at = _nearest_year(MONTHS[m["month"]], int(m["day"]), m["hms"], tz, read_at)
    elif m := _RFC3339.match(line):
        zone = UTC if m["zone"] == "Z" else _offset(m["zone"])
        year, month, day = m["date"].split("-")
        parsed.at = _stamp(zone, year, month, day, m["hms"], m["fraction"]) if zone else None
    else:
        return parsed
    if tag := _TAG.match(m["rest"]):
        parsed.fields["program"] = tag["program"]
        if tag["pid"]:
            parsed.fields["pid"] = int(tag["pid"])
        _program_details(parsed, tag["program"], tag["msg"])
    return parsed


def parse_journal(text: str, tz: tzinfo, read_at: datetime) -> Parsed:
    """One ``journalctl -o json`` entry; its message becomes ``program[pid]: MESSAGE``."""
    try:
        entry = json.loads(text)
    except ValueError:
        return Parsed()
    if not isinstance(entry, dict):
        return Parsed()
    parsed = Parsed()
    stamp = entry.get("__REALTIME_TIMESTAMP")
    if _ascii_number(stamp, 17):
        parsed.at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(stamp))
    priority = entry.get("PRIORITY")
    if _ascii_number(priority, 1) and int(priority) < 8:
        parsed.level = SYSLOG_PRIORITIES[int(priority)]
    message = _journal_text(entry.get("MESSAGE"))
    program = entry.get("SYSLOG_IDENTIFIER")
    pid = entry.get("_PID") or entry.get("SYSLOG_PID")
    unit = entry.get("_SYSTEMD_UNIT")
    if isinstance(unit, str):
        parsed.fields["unit"] = unit
    if isinstance(program, str) and program:
        parsed.fields["program"] = program
        prefix = program
        if _ascii_number(pid, 10):
            parsed.fields["pid"] = int(pid)
            prefix += f"[{pid}]"
        _program_details(parsed, program, message)
        message = f"{prefix}: {message}"
    parsed.message = message
    return parsed


def _ascii_number(value: object, digits: int) -> TypeGuard[str]:
    """A string of 1 to ``digits`` ASCII digits (``str.isdigit`` takes ``²`` too)."""
    return isinstance(value, str) and re.fullmatch(f"[0-9]{{1,{digits}}}", value) is not None


def _journal_text(value: object) -> str:
    """MESSAGE as text: a string, or (binary in the journal) a list of byte values."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(b, int) and 0 <= b < 256 for b in value):
        return bytes(value).decode(errors="backslashreplace")
    return "" if value is None else str(value)


_SLAPD_IDS = re.compile(r"\bconn=(?P<conn>\d{1,18})(?: op=(?P<op>\d{1,18}))?")
#: sshd's lines of a refused or failed login, and of its own errors.
_SSHD_FAILED = re.compile(
    r"(Failed \S+ for|Invalid user|Connection closed by invalid user|"
    r"(?:maximum|Too many) authentication|.*authentication failure)"
)
_SSHD_ERROR = re.compile(r"(error|fatal): ")


def _program_details(parsed: Parsed, program: str, message: str) -> None:
    """What a program's lines say beyond syslog's own: slapd's records are the source
    ``slapd`` with their connection and operation, sshd's failed logins are warnings and
    its errors errors."""
    if program == "slapd":
        parsed.source = SLAPD
        if ids := _SLAPD_IDS.search(message):
            parsed.fields["conn"] = int(ids["conn"])
            if ids["op"] is not None:
                parsed.fields["op"] = int(ids["op"])
    elif program == "sshd":
        if _SSHD_ERROR.match(message):
            parsed.level = parsed.level or ("critical" if message.startswith("fatal") else "error")
        elif _SSHD_FAILED.match(message) and parsed.level in (None, "info", "notice"):
            parsed.level = "warning"


# --- log4j -----------------------------------------------------------------------------

_LOG4J = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2}) " + _HMS + r",(?P<ms>\d{3}) +"
    r"(?P<level>TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\b(?: +\[(?P<thread>[^\]]*)\])?"
    r"(?: +\[(?P<logger>[^\]\s]+)\])?"
)


def parse_log4j(text: str, tz: tzinfo, read_at: datetime) -> Parsed:
    m = _LOG4J.match(text)
    if m is None:
        return Parsed()
    year, month, day = m["date"].split("-")
    parsed = Parsed(
        _stamp(tz, year, month, day, m["hms"], m["ms"]), NAMED_LEVELS[m["level"].lower()]
    )
    if m["logger"]:
        parsed.fields["logger"] = m["logger"]
    return parsed


# --- NGINX and Apache ------------------------------------------------------------------

#: A variable's pattern by the character after it: inside quotes or brackets, up to the
#: closing one (NGINX escapes a quote in a value as ``\x22``); elsewhere no space.
_VALUE_BEFORE = {'"': r'[^"]*', "]": r"[^\]]*"}
_NO_SPACE = r"\S*"


def format_regex(log_format: str) -> re.Pattern[str]:
    """A regex reading lines of NGINX's ``log_format`` text: a named group per variable."""
    parts = re.split(r"\$([a-z_][a-z0-9_]*)", log_format)
    pattern = ""
    for i, part in enumerate(parts):
        if i % 2 == 0:
            pattern += re.escape(part)
        else:
            value = _VALUE_BEFORE.get(parts[i + 1][:1], _NO_SPACE)
            pattern += f"(?P<{part}>{value})"
    return re.compile(pattern)


#: The proxy's format first, then ``combined`` (NGINX's default, Apache's usual one).
ACCESS_FORMATS: tuple[re.Pattern[str], ...] = (
    format_regex(topology.NGINX_ACCESS_FORMAT),
    format_regex(topology.NGINX_COMBINED_FORMAT),
)
_TIME_LOCAL = re.compile(
    r"(?P<day>\d{2})/" + _MONTH + r"/(?P<year>\d{4}):" + _HMS + r" (?P<zone>[+-]\d{4})"
)
_REQUEST = re.compile(r"(?P<method>[A-Z]{1,20}) (?P<target>\S+)(?: HTTP/[\d.]+)?")
_NUMBER = re.compile(r"\d{1,15}")
_SECONDS = re.compile(r"\d{1,9}(?:\.\d{1,6})?")


def parse_access(text: str, tz: tzinfo, read_at: datetime) -> Parsed:
    """An access line: ``client``, ``method``, ``path`` (without its query), ``status``,
    ``bytes``, ``request_time`` (s) and ``upstream``; a 5xx is an error, a 4xx a warning."""
    line = _first_line(text)
    m = next((m for f in ACCESS_FORMATS if (m := f.fullmatch(line))), None)
    if m is None:
        return Parsed()
    values = m.groupdict()
    parsed = Parsed()
    if when := _TIME_LOCAL.fullmatch(values["time_local"]):
        zone = _offset(when["zone"])
        month = MONTHS[when["month"]]
        parsed.at = _stamp(zone, when["year"], month, when["day"], when["hms"]) if zone else None
    fields = parsed.fields
    fields["client"] = values["remote_addr"]
    if request := _REQUEST.fullmatch(values["request"]):
        fields["method"] = request["method"]
        fields["path"] = request["target"].split("?", 1)[0]
    if _NUMBER.fullmatch(values["status"]):
        status = fields["status"] = int(values["status"])
        parsed.level = "error" if status >= 500 else "warning" if status >= 400 else "info"
    if _NUMBER.fullmatch(values["body_bytes_sent"]):
        fields["bytes"] = int(values["body_bytes_sent"])
    if _SECONDS.fullmatch(values.get("request_time") or ""):
        fields["request_time"] = float(values["request_time"])
    if values.get("upstream_addr") not in (None, "", "-"):
        fields["upstream"] = values["upstream_addr"]
    return parsed


_NGINX_ERROR = re.compile(
    r"(?P<year>\d{4})/(?P<month>\d{2})/(?P<day>\d{2}) " + _HMS + r" \[(?P<level>[a-z]+)\] "
)
_CLIENT = re.compile(r", client: (?P<client>[^,\s]+)")


def parse_nginx_error(text: str, tz: tzinfo, read_at: datetime) -> Parsed:
    line = _first_line(text)
    m = _NGINX_ERROR.match(line)
    if m is None:
        return Parsed()
    parsed = Parsed(
        _stamp(tz, m["year"], m["month"], m["day"], m["hms"]), NAMED_LEVELS.get(m["level"])
    )
    if client := _CLIENT.search(line):
        parsed.fields["client"] = client["client"]
    return parsed


#: ``[Sun Dec 06 19:55:36.123456 2026] [ssl:warn] [pid 1:tid 2] [client 1.2.3.4:5] ...``
#: (Apache 2.4; 2.2's has no module and no fraction).
_APACHE_ERROR = re.compile(
    r"\[[A-Z][a-z]{2} " + _MONTH + r" (?P<day>\d{2}) " + _HMS + r"(?:\.(?P<fraction>\d{1,6}))?"
    r" (?P<year>\d{4})\] \[(?:[\w-]+:)?(?P<level>[a-z]+\d?)\]"
)
_APACHE_CLIENT = re.compile(r"\[client (?P<client>[^\]\s]+)\]")


def parse_apache_error(text: str, tz: tzinfo, read_at: datetime) -> Parsed:
    line = _first_line(text)
    m = _APACHE_ERROR.match(line)
    if m is None:
        return Parsed()
    at = _stamp(tz, m["year"], MONTHS[m["month"]], m["day"], m["hms"], m["fraction"])
    level = m["level"]
    parsed = Parsed(at, "debug" if level.startswith("trace") else NAMED_LEVELS.get(level))
    if client := _APACHE_CLIENT.search(line):
        parsed.fields["client"] = client["client"].rsplit(":", 1)[0]
    return parsed


# --- the cache chain -------------------------------------------------------------------

_REDIS = re.compile(
    r"\d{1,10}:[XCSM] (?P<day>\d{1,2}) "
    + _MONTH
    + r" (?P<year>\d{4}) "
    + _HMS
    + r"(?:\.(?P<fraction>\d{1,6}))? (?P<mark>[.\-*#]) "
)


def parse_redis(text: str, tz: tzinfo, read_at: datetime) -> Parsed:
    m = _REDIS.match(text)
    if m is None:
        return Parsed()
    at = _stamp(tz, m["year"], MONTHS[m["month"]], m["day"], m["hms"], m["fraction"])
    return Parsed(at, REDIS_MARKS[m["mark"]])


_STUNNEL = re.compile(
    r"(?P<year>\d{4})\.(?P<month>\d{2})\.(?P<day>\d{2}) " + _HMS + r" LOG(?P<priority>[0-7])\["
)


def parse_stunnel(text: str, tz: tzinfo, read_at: datetime) -> Parsed:
    m = _STUNNEL.match(text)
    if m is None:
        return Parsed()
    at = _stamp(tz, m["year"], m["month"], m["day"], m["hms"])
    return Parsed(at, SYSLOG_PRIORITIES[int(m["priority"])])


_NUTCRACKER = re.compile(
    r"\[(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2}) "
    + _HMS
    + r"(?:\.(?P<fraction>\d{1,6}))?\] "
)


def parse_nutcracker(text: str, tz: tzinfo, read_at: datetime) -> Parsed:
    """twemproxy's lines carry no level."""
    m = _NUTCRACKER.match(text)
    if m is None:
        return Parsed()
    return Parsed(_stamp(tz, m["year"], m["month"], m["day"], m["hms"], m["fraction"]))


PARSERS: Mapping[Format, Parser] = {
    Format.SYSLOG: parse_syslog,
    Format.JOURNAL: parse_journal,
    Format.LOG4J: parse_log4j,
    Format.ACCESS: parse_access,
    Format.NGINX_ERROR: parse_nginx_error,
    Format.APACHE_ERROR: parse_apache_error,
    Format.REDIS: parse_redis,
    Format.STUNNEL: parse_stunnel,
    Format.NUTCRACKER: parse_nutcracker,
}
