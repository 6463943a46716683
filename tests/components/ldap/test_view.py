"""The replication page's drawing (pure): arrow colours from checks, lag and alerts; the charts."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from clustermgr.components.ldap import view as ldapview
from clustermgr.monitor.views import AlertView, Bucket, HistoryView, SeriesView

MEMBERS = ["idp1.lab.test", "idp2.lab.test", "idp3.lab.test"]
NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)


def node(host: str, state: str = "ok", health: str = "ok") -> dict[str, Any]:
    return {"host": host, "server_id": int(host[3]), "state": state, "health": health}


def agreement(consumer: str, provider: str, state: str = "ok", reason: str = "") -> dict[str, Any]:
    return {
        "consumer": consumer,
        "provider": provider,
        "rid": "001",
        "state": state,
        "reason": reason,
    }


def pair(host: str, peer: str, caught_up: bool = True, lag: float | None = 0.0) -> dict[str, Any]:
    return {"host": host, "peer": peer, "caught_up": caught_up, "lag_seconds": lag}


def alert(key: str, severity: str = "warning", resolved: bool = False) -> AlertView:
    return AlertView(1, "c", "ldap", key, severity, key, NOW, NOW, NOW if resolved else None)


def healthy() -> dict[str, Any]:
    return {
        "nodes": [node(h) for h in MEMBERS],
        "agreements": [agreement(c, p) for c in MEMBERS for p in MEMBERS if c != p],
        "pairs": [pair(c, p) for c in MEMBERS for p in MEMBERS if c != p],
    }


def arrows(t: ldapview.Topology) -> dict[tuple[str, str], ldapview.Arrow]:
    return {(a.consumer, a.provider): a for a in t.arrows}


def test_a_healthy_mesh_is_all_green_with_an_arrow_per_direction() -> None:
    t = ldapview.topology(MEMBERS, healthy(), [])
    assert len(t.nodes) == 3 and len(t.arrows) == 6
    assert {a.health for a in t.arrows} == {"ok"} and {n.health for n in t.nodes} == {"ok"}
    one, other = arrows(t)[MEMBERS[0], MEMBERS[1]], arrows(t)[MEMBERS[1], MEMBERS[0]]
    assert (one.x1, one.y1) != (other.x2, other.y2), "the two directions share no lane"
    for dot in t.nodes:
        assert 0 < dot.x < t.width and 0 < dot.y < t.height


def test_broken_behind_missing_and_unchecked_agreements_get_their_colours() -> None:
    snap = healthy()
    a, b, c = MEMBERS
    snap["agreements"] = [
        x for x in snap["agreements"] if (x["consumer"], x["provider"]) != (a, c)
    ]  # a has no agreement for c
    snap["agreements"] = [
        agreement(b, a, "tls", "certificate verify failed")
        if (x["consumer"], x["provider"]) == (b, a)
        else x
        for x in snap["agreements"]
    ]
    snap["pairs"] = [
        pair(c, b, caught_up=False, lag=12.5) if (x["host"], x["peer"]) == (c, b) else x
        for x in snap["pairs"]
    ]
    t = ldapview.topology(MEMBERS, snap, [])
    found = arrows(t)
    assert found[b, a].health == "critical" and "certificate verify failed" in found[b, a].words
    assert found[a, c].health == "warning" and found[a, c].words == "no agreement"
    assert found[c, b].health == "warning" and found[c, b].lag_seconds == 12.5
    assert "12.5" in found[c, b].words
    assert found[a, b].health == "ok"


def test_a_node_that_could_not_be_checked_greys_its_arrows() -> None:
    snap = healthy()
    snap["nodes"][2] = node(MEMBERS[2], state="unreachable", health="critical")
    t = ldapview.topology(MEMBERS, snap, [alert(f"node-unreachable:{MEMBERS[2]}", "critical")])
    found = arrows(t)
    assert {found[MEMBERS[2], p].health for p in MEMBERS[:2]} == {"unknown"}
    assert next(n for n in t.nodes if n.host == MEMBERS[2]).health == "critical"


def test_open_divergence_alerts_colour_the_pair_and_resolved_ones_do_not() -> None:
    a, b, _ = MEMBERS
    t = ldapview.topology(MEMBERS, healthy(), [alert(f"divergence:{a}<-{b}", "warning")])
    assert arrows(t)[a, b].health == "warning"
    t = ldapview.topology(MEMBERS, healthy(), [alert(f"divergence:{a}<-{b}", resolved=True)])
    assert arrows(t)[a, b].health == "ok"


def test_without_a_snapshot_every_node_is_unknown() -> None:
    t = ldapview.topology(MEMBERS, None, [])
    assert {n.health for n in t.nodes} == {"unknown"} and {a.health for a in t.arrows} == {
        "unknown"
    }


def test_the_charts_are_probe_latency_and_lag_one_line_per_node() -> None:
    a, b, c = MEMBERS
    since = NOW - timedelta(hours=1)
    t1 = since + timedelta(minutes=30)

    def series(metric: str, host: str, peer: str, value: float) -> SeriesView:
        return SeriesView(metric, host, peer, (Bucket(t1, value, value, value, 1),))

    history = HistoryView(
        since,
        NOW,
        10,
        (
            series("lag_seconds", a, b, 4.0),
            series("probe_seconds", a, b, 0.05),
            series("probe_seconds", a, c, 0.12),
        ),
    )
    probe, lag = ldapview.charts(MEMBERS, history)
    assert [line.host for line in probe.lines] == list(MEMBERS)
    assert probe.lines[0].latest == "120 ms", "the slowest other node"
    assert lag.lines[0].latest == "4 s" and lag.lines[1].count == 0
    assert probe.id != lag.id


# --- the drawing's geometry ----------------------------------------------------------


def members(count: int) -> list[str]:
    return [f"idp{i}.lab.test" for i in range(1, count + 1)]


def _distance_to_segment(px: float, py: float, a: ldapview.Arrow) -> float:
    dx, dy = a.x2 - a.x1, a.y2 - a.y1
    t = max(0.0, min(1.0, ((px - a.x1) * dx + (py - a.y1) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (a.x1 + t * dx), py - (a.y1 + t * dy))


@pytest.mark.parametrize("count", [2, 3, 11])
def test_nodes_keep_apart_and_inside_and_their_names_fit(count: int) -> None:
    t = ldapview.topology(members(count), None, [])
    r = t.radius
    assert len(t.nodes) == count
    for i, a in enumerate(t.nodes):
        assert r <= a.x <= t.width - r and r <= a.y <= t.height - r, f"{a.host} is cut off"
        for b in t.nodes[i + 1 :]:
            assert math.hypot(a.x - b.x, a.y - b.y) >= 2 * r + ldapview.MARGIN, (a, b)
        assert ldapview.text_width(a.label, ldapview.LABEL_PX) <= ldapview.LABEL_ROOM
        assert ldapview.text_width(a.detail, ldapview.SMALL_PX) <= ldapview.LABEL_ROOM
        assert 2 * r > ldapview.LABEL_ROOM


@pytest.mark.parametrize("count", [2, 3, 11])
def test_arrows_end_at_their_consumer_clear_of_other_nodes_and_of_each_other(count: int) -> None:
    t = ldapview.topology(members(count), None, [])
    dots = {n.host: n for n in t.nodes}
    assert len(t.arrows) == count * (count - 1)
    for a in t.arrows:
        consumer, provider = dots[a.consumer], dots[a.provider]
        tip = math.hypot(a.x2 - consumer.x, a.y2 - consumer.y)
        assert t.radius < tip <= ldapview.TIP + 0.2, "the head touches its node, outside it"
        middle = ((consumer.x + provider.x) / 2, (consumer.y + provider.y) / 2)
        assert math.hypot(a.x1 - middle[0], a.y1 - middle[1]) < 0.2, "it starts mid-line"
        for other in t.nodes:
            if other.host not in (a.consumer, a.provider):
                assert _distance_to_segment(other.x, other.y, a) >= t.radius + 8, (a, other.host)
    for node in t.nodes:
        tips = [(a.x2, a.y2) for a in t.arrows if a.consumer == node.host]
        for i, (x, y) in enumerate(tips):
            for ox, oy in tips[i + 1 :]:
                assert math.hypot(x - ox, y - oy) >= t.head, "arrowheads would overlap"
    assert t.head >= 6, "heads stay visible"


def test_long_names_are_cut_to_fit_their_circle_and_kept_whole_in_the_title() -> None:
    host = "identity-server-number-eleven.example.org"
    (dot,) = ldapview.topology([host], None, []).nodes
    assert dot.label.endswith("…") and dot.host == host
    assert ldapview.text_width(dot.label, ldapview.LABEL_PX) <= ldapview.LABEL_ROOM
