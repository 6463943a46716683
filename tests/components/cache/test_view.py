"""The cache chain's drawing (pure): boxes coloured by state, text that fits its box."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import clustermgr.web
from clustermgr.components.cache import status as cs
from clustermgr.components.cache import view

CSS = (Path(clustermgr.web.__file__).parent / "static" / "app.css").read_text()
TEMPLATE = (Path(view.__file__).parent / "templates" / "cache" / "live.html").read_text()


def hosts(n: int) -> list[str]:
    return [f"idp{i}.lab.test" for i in range(1, n + 1)]


def snapshot(members: list[str], down: dict[str, str]) -> dict[str, Any]:
    """Every hop up but ``down`` (host -> the hop that is down); the last host unchecked."""
    nodes = []
    for host in members[:-1]:
        hops = [
            cs.Hop(host, what, what != down.get(host), "refused" if what == down.get(host) else "")
            for what, _ in view.HOPS
        ]
        nodes.append(cs.NodeChain(host, host.split(".")[0], hops).as_dict())
    return {"nodes": nodes}


@pytest.mark.parametrize("count", [2, 3, 11])
def test_boxes_never_overlap_and_their_words_fit(count: int) -> None:
    chain = view.chain(hosts(count), None)
    boxes = [b for r in chain.rows for b in r.boxes]
    assert len(boxes) == count * len(view.HOPS)
    for i, a in enumerate(boxes):
        assert a.x >= 0 and a.x + chain.box_w <= chain.width
        assert a.y >= 0 and a.y + chain.box_h <= chain.height
        for b in boxes[i + 1 :]:
            apart_x = a.x + chain.box_w + chain.gap <= b.x or b.x + chain.box_w + chain.gap <= a.x
            apart_y = a.y + chain.box_h <= b.y or b.y + chain.box_h <= a.y
            assert apart_x or apart_y, f"{a} overlaps {b}"
        inside = chain.box_w - 8
        assert view.text_width(a.label, view.LABEL_PX) <= inside, a.label
        assert view.text_width(a.state, view.STATE_PX) <= inside, a.state
    for row in chain.rows:
        assert view.text_width(row.name, view.ROW_LABEL_PX) <= view.LEFT - 8


def test_a_long_node_name_is_cut_to_fit_its_row() -> None:
    (row,) = view.chain(["identity-server-number-one.example.org"], None).rows
    assert row.name.endswith("…") and row.name.startswith("identity")
    assert view.text_width(row.name, view.ROW_LABEL_PX) <= view.LEFT - 8


def test_each_box_takes_the_state_of_its_hop() -> None:
    members = hosts(3)
    chain = view.chain(members, snapshot(members, {members[1]: cs.REDIS}))
    first, second, unchecked = ({b.label: b for b in r.boxes} for r in chain.rows)
    assert {(b.health, b.state) for b in first.values()} == {("ok", "up")}
    assert (second["Redis"].health, second["Redis"].state) == ("critical", "down")
    assert "refused" in second["Redis"].title
    assert {b.health for label, b in second.items() if label != "Redis"} == {"ok"}
    assert {(b.health, b.state) for b in unchecked.values()} == {("unknown", "not checked")}


@pytest.mark.parametrize("health", sorted(view.STATE_WORDS))
def test_the_stylesheet_fills_each_state_and_the_template_paints_nothing(health: str) -> None:
    rule = re.search(rf"\.hop\.health-{health} rect[^{{]*\{{([^}}]*)\}}", CSS)
    assert rule and "fill:" in rule.group(1) and "stroke:" in rule.group(1), health
    assert re.search(rf"\.hop\.health-{health} text\.hop-state[^{{]*\{{[^}}]*fill:", CSS)
    assert not re.search(r"\b(fill|stroke|style)=", TEMPLATE), "colours live in app.css"
