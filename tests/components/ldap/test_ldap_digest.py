"""The node-side digest script's pure parts: DNs, subtrees, LDIF, digests."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clustermgr.components.ldap import compare as cmp
from clustermgr.components.ldap import digest

LDIF = b"""\
dn: o=gluu
objectClass: top
objectClass: organization
o: gluu
entryUUID: 1111
entryCSN: 20261127010000.000000Z#000000#001#000000

dn: ou=people,o=gluu
objectClass: organizationalUnit
ou: people
entryUUID: 2222

dn: inum=a\\,b,ou=people,o=gluu
objectClass: gluuPerson
userPassword:: e1NTSEF9c2VjcmV0
entryUUID: 3333

# a comment
dn: ou=probe-1,ou=replication-probe,o=gluu
ou: probe-1
"""


@pytest.mark.parametrize(
    ("dn", "rdns"),
    [
        ("o=gluu", ["o=gluu"]),
        ("OU=People, O=Gluu", ["ou=people", "o=gluu"]),
        ("inum=a\\,b,ou=people,o=gluu", ["inum=a\\,b", "ou=people", "o=gluu"]),
    ],
)
def test_split_dn(dn: str, rdns: list[str]) -> None:
    assert digest.split_dn(dn) == rdns


@pytest.mark.parametrize(
    ("dn", "tree"),
    [
        ("o=gluu", "o=gluu"),
        ("ou=people,o=gluu", "ou=people,o=gluu"),
        ("inum=x,ou=People,o=gluu", "ou=people,o=gluu"),
        ("cn=x,ou=a,ou=b,o=gluu", "ou=b,o=gluu"),
        ("o=site", None),
        ("ou=x,o=other", None),
    ],
)
def test_subtree(dn: str, tree: str | None) -> None:
    assert digest.subtree(dn, "o=gluu") == tree


def test_entries_decode_base64_and_skip_comments() -> None:
    found = list(digest.entries(LDIF.splitlines(keepends=True)))
    assert [dn for dn, _ in found] == [
        "o=gluu",
        "ou=people,o=gluu",
        "inum=a\\,b,ou=people,o=gluu",
        "ou=probe-1,ou=replication-probe,o=gluu",
    ]
    assert found[2][1]["userpassword"] == [b"{SSHA}secret"]
    assert found[0][1]["objectclass"] == [b"top", b"organization"]


def test_entries_fold_continuation_lines() -> None:
    text = b"dn: ou=a,o=gluu\ndescription: long\n  value\n"
    ((_, attrs),) = digest.entries(text.splitlines(keepends=True))
    assert attrs["description"] == [b"long value"]


def test_entry_digest_ignores_name_case_and_value_order() -> None:
    one = {"objectclass": [b"top", b"person"], "cn": [b"x"]}
    other = {"cn": [b"x"], "objectclass": [b"person", b"top"]}
    assert digest.entry_digest(one) == digest.entry_digest(other)


def test_entry_digest_sees_values_uuid_and_csn_apart() -> None:
    base = {"cn": [b"x"], "entryuuid": [b"1"], "entrycsn": [b"c1"]}
    values, csn = digest.entry_digest(base)
    assert digest.entry_digest({**base, "cn": [b"y"]})[0] != values
    assert digest.entry_digest({**base, "entryuuid": [b"2"]})[0] != values
    other_csn = digest.entry_digest({**base, "entrycsn": [b"c2"]})
    assert other_csn[0] == values and other_csn[1] != csn
    # a value is not confused with two values that concatenate to it
    assert digest.entry_digest({"cn": [b"ab"]}) != digest.entry_digest({"cn": [b"a", b"b"]})


def test_summarise_counts_subtrees_excludes_probe_and_names_asked_keys() -> None:
    found = digest.entries(LDIF.splitlines(keepends=True))
    person = digest.key("inum=a\\,b,ou=people,o=gluu")
    out = digest.summarise(found, "o=gluu", ["ou=replication-probe,o=gluu"], [person])
    trees = out["subtrees"]
    assert sorted(trees) == ["o=gluu", "ou=people,o=gluu"]
    assert trees["o=gluu"]["count"] == 1 and trees["ou=people,o=gluu"]["count"] == 2
    assert out["dns"] == {person: "inum=a\\,b,ou=people,o=gluu"}
    text = repr(out)
    assert "secret" not in text and base64.b64encode(b"{SSHA}secret").decode() not in text


def test_subtree_digest_changes_with_any_entry() -> None:
    lines = LDIF.splitlines(keepends=True)
    before = digest.summarise(digest.entries(lines), "o=gluu", [], [])
    changed = [ln.replace(b"e1NTSEF9c2VjcmV0", b"e1NTSEF9b3RoZXI=") for ln in lines]
    after = digest.summarise(digest.entries(changed), "o=gluu", [], [])
    people = "ou=people,o=gluu"
    assert before["subtrees"][people]["digest"] != after["subtrees"][people]["digest"]
    assert before["subtrees"]["o=gluu"] == after["subtrees"]["o=gluu"]


def run_script(tmp_path: Path, ldapsearch: str) -> subprocess.CompletedProcess[str]:
    """The script as the node runs it (``python3 -c``), against a fake ldapsearch."""
    fake = tmp_path / "ldapsearch"
    fake.write_text(f"#!/bin/sh\n{ldapsearch}\n")
    fake.chmod(0o755)
    spec = cmp.read().stdin_bytes() or b""
    return subprocess.run(
        [sys.executable, "-c", cmp.DIGEST_SOURCE],
        input=spec.decode(),
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"},
        check=False,
    )


def test_script_digests_ldapsearch_output(tmp_path: Path) -> None:
    (tmp_path / "out.ldif").write_bytes(LDIF)
    done = run_script(tmp_path, f"cat {tmp_path / 'out.ldif'}")
    assert done.returncode == 0, done.stderr
    parsed = cmp.parse(done.stdout)
    assert {t: s.count for t, s in parsed.subtrees.items()} == {
        "o=gluu": 1,
        "ou=people,o=gluu": 2,
    }


def test_script_reports_an_unreadable_directory(tmp_path: Path) -> None:
    done = run_script(tmp_path, 'echo "ldap_sasl_interactive_bind: no server" >&2; exit 255')
    assert done.returncode == 2 and "no server" in done.stderr and done.stdout == ""


def test_script_takes_a_missing_suffix_as_empty(tmp_path: Path) -> None:
    done = run_script(tmp_path, "exit 32")
    assert done.returncode == 0 and cmp.parse(done.stdout).subtrees == {}
