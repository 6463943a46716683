"""The cluster's block in /etc/hosts: added, replaced in place, others' lines kept."""

from __future__ import annotations

import pytest

from clustermgr.components.base.hosts import render_hosts
from clustermgr.errors import InvalidInput
from clustermgr.inventory.schemas import ServerView
from clustermgr.topology import Role


def server(hostname: str, address: str, role: Role = Role.IDENTITY) -> ServerView:
    return ServerView(0, "lab", hostname, address, 22, "root", role, None)


MEMBERS = [
    server("idp2.example.org", "10.0.0.2"),
    server("idp1.example.org", "10.0.0.1"),
    server("lb.example.org", "10.0.0.9", Role.PROXY),
]
BLOCK = (
    "# BEGIN clustermgr cluster lab\n"
    "10.0.0.1\tidp1.example.org idp1\n"
    "10.0.0.2\tidp2.example.org idp2\n"
    "10.0.0.9\tlb.example.org lb\n"
    "# END clustermgr cluster lab\n"
)


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        ("", BLOCK),
        ("127.0.0.1\tlocalhost\n", "127.0.0.1\tlocalhost\n" + BLOCK),
        (
            "127.0.0.1 localhost\n# BEGIN clustermgr cluster lab\n10.9.9.9 old\n"
            "# END clustermgr cluster lab\n::1 localhost ip6-localhost\n",
            "127.0.0.1 localhost\n" + BLOCK + "::1 localhost ip6-localhost\n",
        ),
        # A begin marker without its end: the rest was ours, replaced whole.
        (
            "127.0.0.1 localhost\n# BEGIN clustermgr cluster lab\n10.9.9.9 old\n",
            "127.0.0.1 localhost\n" + BLOCK,
        ),
        # Another cluster's block is not ours to touch.
        (
            "# BEGIN clustermgr cluster other\n1.2.3.4 x\n# END clustermgr cluster other\n",
            "# BEGIN clustermgr cluster other\n1.2.3.4 x\n# END clustermgr cluster other\n" + BLOCK,
        ),
    ],
)
def test_render(current: str, expected: str) -> None:
    rendered = render_hosts(current, "lab", MEMBERS)
    assert rendered.content == expected
    assert render_hosts(rendered.content, "lab", MEMBERS).content == expected, "stable"


def test_conflicting_lines_are_reported_not_changed() -> None:
    current = "127.0.1.1 idp1.example.org idp1\n10.0.0.2 idp2.example.org\n"
    rendered = render_hosts(current, "lab", MEMBERS)
    assert rendered.conflicts == ("127.0.1.1 idp1.example.org idp1",)
    assert rendered.content.startswith(current)


def test_members_known_by_dns_only_are_not_pinned() -> None:
    rendered = render_hosts("", "lab", [server("idp1.example.org", "idp1.example.org")])
    assert rendered.content == "# BEGIN clustermgr cluster lab\n# END clustermgr cluster lab\n"


@pytest.mark.parametrize(
    ("cluster", "member"),
    [
        ("lab", server("idp1.example.org\n203.0.113.9 login.example.org", "10.0.0.1")),
        ("lab", server("idp1.example.org", "10.0.0.1 login.example.org")),
        ("lab", server("idp1.example.org #", "10.0.0.1")),
        ("lab\n203.0.113.9 login.example.org", server("idp1.example.org", "10.0.0.1")),
    ],
)
def test_a_member_that_bypassed_the_inventory_checks_is_refused(
    cluster: str, member: ServerView
) -> None:
    with pytest.raises(InvalidInput, match="refusing to write to a server"):
        render_hosts("127.0.0.1 localhost\n", cluster, [member])


def test_lines_the_host_already_has_are_not_repeated_in_the_block() -> None:
    """The host's own line (its installer wrote it) stays; the block does not say it again."""
    current = "127.0.0.1 localhost\n10.0.0.1\tidp1.example.org idp1\n10.0.0.2 IDP2.example.org\n"
    rendered = render_hosts(current, "lab", MEMBERS)
    assert rendered.content == current + (
        "# BEGIN clustermgr cluster lab\n"
        "10.0.0.2\tidp2\n"
        "10.0.0.9\tlb.example.org lb\n"
        "# END clustermgr cluster lab\n"
    )
    assert rendered.conflicts == ()
    assert render_hosts(rendered.content, "lab", MEMBERS).content == rendered.content, "stable"
    mappings = [
        line for line in rendered.content.lower().splitlines() if "idp1.example.org" in line
    ]
    assert len(mappings) == 1


def test_the_block_says_it_again_once_the_hosts_own_line_is_gone() -> None:
    with_own_line = render_hosts("10.0.0.1 idp1.example.org idp1\n", "lab", MEMBERS).content
    without = with_own_line.replace("10.0.0.1 idp1.example.org idp1\n", "")
    assert render_hosts(without, "lab", MEMBERS).content == BLOCK


def test_a_line_mapping_a_member_elsewhere_does_not_hide_its_block_line() -> None:
    current = "127.0.1.1 idp1.example.org idp1\n"
    rendered = render_hosts(current, "lab", MEMBERS)
    assert rendered.content == current + BLOCK
    assert rendered.conflicts == ("127.0.1.1 idp1.example.org idp1",)
