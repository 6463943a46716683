"""Counts agree with their nouns wherever clustermgr prints them."""

from __future__ import annotations

import pytest

from clustermgr.components.ldap.model import Member, Replication
from clustermgr.components.ldap.plan import _agreements
from clustermgr.redact import Secret
from clustermgr.words import count


@pytest.mark.parametrize(
    ("n", "noun", "expected"),
    [
        (1, "peer", "1 peer"),
        (0, "peer", "0 peers"),
        (2, "peer", "2 peers"),
        (1, "entry", "1 entry"),
        (3, "entry", "3 entries"),
        (2, "day", "2 days"),
        (2, "status", "2 statuses"),
        (1, "open alert", "1 open alert"),
        (4, "open alert", "4 open alerts"),
    ],
)
def test_count(n: int, noun: str, expected: str) -> None:
    assert count(n, noun) == expected


def test_an_irregular_plural_is_given() -> None:
    assert count(2, "child", "children") == "2 children"
    assert count(1, "child", "children") == "1 child"


def test_a_two_node_cluster_replicates_from_one_peer() -> None:
    rep = Replication((Member("idp1.x.test", 1), Member("idp2.x.test", 2)), Secret("pw"))
    step = _agreements("idp1.x.test", "olcDatabase={1}mdb,cn=config", rep, {})
    assert step.unchanged_reason == "replicating from 1 peer"


def test_templates_count_with_the_filter() -> None:
    from clustermgr.web.app import templates
    from clustermgr.web.assets import StaticAssets
    from clustermgr.web.context import STATIC

    env = templates((), StaticAssets(STATIC)).env
    assert env.from_string('{{ 1|count("open alert") }}').render() == "1 open alert"
    assert env.from_string('{{ 3|count("point") }}').render() == "3 points"
