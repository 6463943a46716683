"""The query language: what it reads, and a clear error for everything it cannot."""

from __future__ import annotations

import pytest

from clustermgr.errors import InvalidInput
from clustermgr.logstore.query import MAX_QUERY, LogQuery, Term, parse_query


def test_words_phrases_exclusions_and_filters() -> None:
    q = parse_query('timeout "connection refused" -debug host:idp1 source:slapd status:5xx')
    assert q.terms == (
        Term("timeout", ("timeout",)),
        Term("connection refused", ("connection", "refused")),
    )
    assert q.excluded == (Term("debug", ("debug",)),)
    assert q.hosts == {"idp1"} and q.sources == {"slapd"}
    assert q.statuses == ((500, 599),)
    assert q.highlight_terms() == ["timeout", "connection refused"]


def test_levels_exact_or_at_least() -> None:
    assert parse_query("level:error").levels == {"error"}
    assert parse_query("level:>=error").levels == {"error", "critical"}
    assert parse_query("level:ERROR status:502").statuses == ((502, 502),)


@pytest.mark.parametrize(
    ("typed", "runs"),
    [
        ("10.0.0.5", ("10", "0", "0", "5")),
        ("conn=1001", ("conn", "1001")),
        ("550e8400-e29b-41d4", ("550e8400", "e29b", "41d4")),
        ("Café", ("café",)),
        ("NEAR(", ("near",)),
        ("AND", ("and",)),
        ("12:30:05", ("12", "30", "05")),
        ("foo*", ("foo",)),
        ('dn="cn=directory manager,o=gluu"', ("dn", "cn", "directory", "manager", "o", "gluu")),
        ('-"a b"c', ("a", "bc")),
    ],
)
def test_tokens_reach_the_store_as_runs(typed: str, runs: tuple[str, ...]) -> None:
    q = parse_query(typed)
    assert (q.terms or q.excluded)[0].tokens == runs


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ('"', "quote is not closed"),
        ('"connection refused', "quote is not closed"),
        ('ab"c', "quote is not closed"),
        ("*", "no letter or digit"),
        (":", "no letter or digit"),
        ("-", "no letter or digit"),
        ('""', "no letter or digit"),
        ("host:", "has no value"),
        ("colour:red", "unknown filter"),
        ("status:abc", "bad status"),
        ("status:700", "bad status"),
        ("status:5x", "bad status"),
        ("level:loud", "unknown level"),
        ("-host:idp1", "cannot be excluded"),
        ("x" * (MAX_QUERY + 1), "characters long"),
        (" ".join(["w"] * 30), "parts"),
    ],
)
def test_bad_queries_say_why(typed: str, says: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_query(typed)
    assert says in raised.value.message
    assert raised.value.hint


def test_empty_query_matches_everything() -> None:
    assert parse_query("   ") == LogQuery()
