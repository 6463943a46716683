"""Comparing nodes' digests: verdicts, majority and reference, bounded drill-down."""

from __future__ import annotations

import json

import pytest

from clustermgr.components.ldap import compare as cmp
from clustermgr.components.ldap.compare import NodeDigest, Subtree


def node(**trees: dict[str, tuple[str, str]]) -> NodeDigest:
    """A digest from {subtree: {key: (values, csn)}}; subtree names use _ for , and =."""
    out = {}
    for name, entries in trees.items():
        digest = "|".join(f"{k}{v}" for k, v in sorted(entries.items()))
        out[name] = Subtree(len(entries), digest, entries)
    return NodeDigest(out)


BASE = {"k0": ("v0", "c0")}
PEOPLE = {"k1": ("v1", "c1"), "k2": ("v2", "c2")}


def same() -> NodeDigest:
    return node(gluu=BASE, people=dict(PEOPLE))


def test_identical() -> None:
    result = cmp.compare({"a": same(), "b": same(), "c": same()})
    assert result.verdict == "identical" and result.identical
    assert result.subtrees == ()
    assert all(n.entries == () and n.error is None for n in result.nodes)
    assert result.as_dict()["ok"] is True


def test_unreadable_node_is_reported_not_different() -> None:
    result = cmp.compare({"a": same(), "b": "cannot read o=gluu: ldap_sasl_bind", "c": same()})
    assert result.verdict == "incomplete" and not result.identical
    (b,) = [n for n in result.nodes if n.host == "b"]
    assert b.error and b.entries == () and b.counts == {}
    assert result.subtrees == ()


def test_no_node_readable_is_incomplete() -> None:
    assert cmp.compare({"a": "down", "b": "down"}).verdict == "incomplete"


def test_extra_missing_and_different_against_the_majority() -> None:
    extra = node(gluu=BASE, people={**PEOPLE, "k9": ("v9", "c9")})
    missing = node(gluu=BASE, people={"k1": ("v1", "c1")})
    changed = node(gluu=BASE, people={"k1": ("v1", "c1"), "k2": ("vX", "cX")})
    csn_only = node(gluu=BASE, people={"k1": ("v1", "c1"), "k2": ("v2", "cX")})
    for odd, kind, entry in [
        (extra, cmp.EXTRA, "k9"),
        (missing, cmp.MISSING, "k2"),
        (changed, cmp.DIFFERENT, "k2"),
        (csn_only, cmp.CSN_ONLY, "k2"),
    ]:
        result = cmp.compare({"a": same(), "b": same(), "c": odd})
        assert result.verdict == "different"
        (tree,) = result.subtrees
        assert tree.subtree == "people" and tree.nodes == ("c",)
        c = result.nodes[2]
        assert [(e.key, e.kind) for e in c.entries] == [(entry, kind)]
        assert c.totals == {kind: 1}
        assert result.nodes[0].entries == () and result.nodes[1].entries == ()


def test_a_subtree_only_one_node_has() -> None:
    odd = node(gluu=BASE, people=dict(PEOPLE), extra={"k7": ("v", "c")})
    result = cmp.compare({"a": same(), "b": same(), "c": odd})
    (tree,) = result.subtrees
    assert tree.subtree == "extra" and tree.counts == {"a": 0, "b": 0, "c": 1}
    assert [(e.key, e.kind) for e in result.nodes[2].entries] == [("k7", cmp.EXTRA)]


@pytest.mark.parametrize(("reference", "odd"), [("a", "b"), ("b", "a")])
def test_without_a_majority_the_reference_decides(reference: str, odd: str) -> None:
    other = node(gluu=BASE, people={**PEOPLE, "k9": ("v9", "c9")})
    nodes = {"a": same(), "b": other} if reference == "a" else {"a": other, "b": same()}
    result = cmp.compare(nodes, reference=reference)
    assert result.reference == reference
    (tree,) = result.subtrees
    assert tree.nodes == (odd,)
    # b (or a) holds k9 beyond the reference: extra; the reference itself is fine.
    (named,) = [n for n in result.nodes if n.host == odd]
    assert named.totals == {cmp.EXTRA: 1}


def test_drill_down_is_bounded_but_totals_count_everything() -> None:
    many = {f"k{i:03}": (f"v{i}", "c") for i in range(50)}
    result = cmp.compare(
        {"a": same(), "b": same(), "c": node(gluu=BASE, people={**PEOPLE, **many})}, limit=20
    )
    c = result.nodes[2]
    assert len(c.entries) == 20 and c.totals == {cmp.EXTRA: 50}


def test_named_fills_dns_and_holders_says_where_to_ask() -> None:
    odd = node(gluu=BASE, people={"k1": ("v1", "c1")})
    nodes: dict[str, NodeDigest | str] = {"a": same(), "b": same(), "c": odd, "d": "down"}
    result = cmp.compare(nodes)
    assert cmp.holders(nodes, result) == {"a": ["k2"]}
    named = result.named({"k2": "inum=2,ou=people,o=gluu"})
    assert named.nodes[2].entries[0].dn == "inum=2,ou=people,o=gluu"
    data = named.as_dict()
    assert data["verdict"] == "different" and data["ok"] is False
    json.dumps(data)


def test_parse_round_trip_and_garbage() -> None:
    text = json.dumps(
        {
            "subtrees": {"o=gluu": {"count": 1, "digest": "d", "entries": {"k": ["v", "c"]}}},
            "dns": {"k": "o=gluu"},
        }
    )
    parsed = cmp.parse(text)
    assert parsed.subtrees["o=gluu"] == Subtree(1, "d", {"k": ("v", "c")})
    assert parsed.dns == {"k": "o=gluu"}
    with pytest.raises(ValueError, match="not a directory digest"):
        cmp.parse("ldap_sasl_interactive_bind: Can't contact LDAP server")
    with pytest.raises(ValueError, match="not a directory digest"):
        cmp.parse('{"subtrees": {"o=gluu": {"count": 1}}}')


def test_read_command_sends_the_spec_on_stdin() -> None:
    command = cmp.read(["abc"])
    spec = json.loads(command.stdin_bytes() or b"")
    assert spec == {"base": "o=gluu", "exclude": ["ou=replication-probe,o=gluu"], "names": ["abc"]}
