"""The one unified diff renderer: difflib's format, with lines shown apart from compared."""

from __future__ import annotations

import difflib

import pytest

from clustermgr.plan.diffs import unified


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("a\nb\nc\n", "a\nB\nc\n"),
        ("", "x\ny\n"),
        ("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "1\n2\n3\nfour\n5\n6\n7\n8\n9\nten\n"),
        ("keep\n", "keep\n"),
        ("a\nb\n", ""),
    ],
)
def test_same_as_difflib(old: str, new: str) -> None:
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    expected = "".join(difflib.unified_diff(a, b, fromfile="p", tofile="p"))
    assert unified("p", a, b) == expected


def test_created_and_removed_name_dev_null() -> None:
    assert unified("p", None, ["x\n"]).startswith("--- /dev/null\n+++ p\n")
    assert unified("p", ["x\n"], None).startswith("--- p\n+++ /dev/null\n")


def test_lines_are_compared_as_they_are_and_shown_as_given() -> None:
    diff = unified("p", ["pw=a\n"], ["pw=b\n"], shown_old=["pw=*\n"], shown_new=["pw=*\n"])
    assert diff.splitlines()[-2:] == ["-pw=*", "+pw=*"]
    with pytest.raises(ValueError, match="one for one"):
        unified("p", ["a\n"], ["b\n"], shown_old=[])
