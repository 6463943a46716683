"""Whatever is typed, the user sees records or an InvalidInput: never a database error."""

from __future__ import annotations

import random

import pytest

from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput
from clustermgr.logstore.query import parse_query
from clustermgr.logstore.records import ResumePoint
from clustermgr.logstore.store import log_store
from logsamples import sample_records

ODD = [
    '"',
    "*",
    "NEAR(",
    "NEAR(a b)",
    "AND OR",
    "a OR b",
    "NOT",
    ":",
    "host:",
    "^a",
    "a:b:c",
    "message:x",
    "{a b}",
    "(x",
    "x)",
    "'",
    "''",
    "a'b",
    "!!x",
    "x & y | !z <-> w",
    "-",
    "--x",
    "- x",
    "\\",
    "\x00",
    "é日本語",
    "\U0001f600",
    "x" * 999,
    "a" * 300 + " " + "b" * 300,
    "status:00",
    "level:>=",
    "level:>",
    "host:a:b",
    "1e5",
    "0x1f",
]
CHARS = "ab1 \"-:*()^'!&|<>{}\\é日\t"


def typed() -> list[str]:
    rng = random.Random(17)
    return ODD + ["".join(rng.choice(CHARS) for _ in range(rng.randint(1, 12))) for _ in range(150)]


async def test_odd_input_finds_records_or_says_why(manager: Manager) -> None:
    store = log_store(manager)
    await store.ingest("c1", "idp1", "syslog", sample_records(), ResumePoint())
    read = 0
    for text in typed():
        try:
            query = parse_query(text)
        except InvalidInput as exc:
            assert exc.hint, text
            continue
        read += 1
        await store.search("c1", query, since=None, until=None)
        await store.count("c1", query, since=None, until=None)
    assert read > 50


@pytest.mark.parametrize("text", ["x" * 999, "é日本語", "a'b", "!!x"])
async def test_odd_words_are_searched_as_words(manager: Manager, text: str) -> None:
    store = log_store(manager)
    record = sample_records()[0]
    await store.ingest(
        "c1",
        "idp1",
        "syslog",
        [record.__class__(record.at, "idp1", "syslog", None, text)],
        ResumePoint(),
    )
    found = await store.search("c1", parse_query(text), since=None, until=None)
    assert [r.record.message for r in found] == [text]
