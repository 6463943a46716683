"""Tables and figures for people: aligned, never wrapped, markup not counted."""

from __future__ import annotations

import pytest

from clustermgr.cli.table import lines, percent, size


def test_columns_align_on_the_rendered_width() -> None:
    rows = [["[green]up[/]", "idp1.lab.test", "ok"], ["[red]down[/]", "idp2", ""]]
    assert lines(["STATE", "HOST", "DETAIL"], rows, indent=2) == [
        "  [bold]STATE[/]  [bold]HOST[/]           [bold]DETAIL[/]",
        "  [green]up[/]     idp1.lab.test  ok",
        "  [red]down[/]   idp2",
    ]


def test_a_long_row_stays_one_line() -> None:
    long = "x" * 300
    assert len(lines(["A", "B"], [["1", long]])) == 2


@pytest.mark.parametrize(
    ("octets", "text"),
    [(1063664, "1.0 MiB"), (512, "512 B"), (3 * 2**30, "3.0 GiB"), (None, "-"), (True, "-")],
)
def test_size_reads_in_its_unit(octets: object, text: str) -> None:
    assert size(octets) == text


def test_percent() -> None:
    assert (percent(0.9712), percent(None)) == ("97 %", "-")
