"""The cache page and its API twin on what the cache watcher recorded."""

from __future__ import annotations

import re

import httpx
import pytest

from clustermgr.components.cache import status as cs
from clustermgr.components.cache.findings import COMPONENT, judge
from clustermgr.components.cache.model import layout
from clustermgr.core.manager import Manager
from clustermgr.db.base import utcnow
from clustermgr.monitor import store
from clustermgr.redact import Secret
from replicationdata import IDP1, IDP2

pytestmark = pytest.mark.integration

PROXY = "proxy1.example.org"


def reading(name: str, *, redis_down: str | None) -> cs.CacheStatus:
    proxy_hops = [cs.Hop(PROXY, w, True) for w in (cs.PROXY_TLS, cs.TWEMPROXY, cs.TWEMPROXY_STATS)]
    nodes = []
    for host in (IDP1, IDP2):
        down = host == redis_down
        chain = cs.NodeChain(host, host.split(".")[0], redis={"used_memory": 2 * 1048576})
        chain.hops = [
            cs.Hop(host, cs.APP_TUNNEL, True),
            *proxy_hops[:2],
            cs.Hop(PROXY, cs.POOL_MEMBER, not down),
            cs.Hop(PROXY, cs.NODE_TUNNEL, not down, "connection closed" if down else ""),
            cs.Hop(host, cs.NODE_TLS, True),
            cs.Hop(host, cs.REDIS, not down, "Connection refused" if down else ""),
        ]
        nodes.append(chain)
    return cs.CacheStatus(name, PROXY, nodes, proxy_hops, None, {"ok": True}, [])


async def record(manager: Manager, name: str, *, redis_down: str | None) -> None:
    status = reading(name, redis_down=redis_down)
    chain = layout([IDP1, IDP2], PROXY, Secret("x" * 8))
    verdict = judge(status, chain, {})
    await store.record_cycle(
        manager,
        store.Cycle(
            name, COMPONENT, utcnow(), status.as_dict(), verdict.measures, verdict.findings
        ),
    )


def hop_class(html: str, host: str, label: str) -> str:
    found = re.search(
        rf'<g class="node hop (health-\w+)" data-host="{re.escape(host)}" '
        rf'data-hop="{re.escape(label)}"',
        html,
    )
    assert found, f"no hop {label} of {host}"
    return found.group(1)


def hops_cell(html: str, host: str) -> str:
    """The words in the table's "Hops" column for ``host`` (the column its header names)."""
    table = html[html.index("Each node's hops in words") :]
    headers = re.findall(r'<th scope="col">([^<]*)</th>', table.split("</thead>", 1)[0])
    row = re.search(rf'<tr data-host="{re.escape(host)}">(.*?)</tr>', table, re.S)
    assert row, f"no row of {host}"
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1), re.S)
    return re.sub(r"<[^>]+>", "", cells[headers.index("Hops")]).strip()


async def test_cache_page_draws_each_hop_by_health(
    gui: httpx.AsyncClient, api: httpx.AsyncClient, app_manager: Manager, identity_cluster: str
) -> None:
    html = (await gui.get(f"/clusters/{identity_cluster}/cache")).text
    assert "No watcher cycle has checked" in html
    assert hop_class(html, IDP1, "Redis") == "health-unknown"
    assert hops_cell(html, IDP1) == "not checked yet"
    assert 'data-chart="memory-chart"' in html and "Nothing in the last 60 minutes." in html

    await record(app_manager, identity_cluster, redis_down=IDP2)
    live = await gui.get(f"/clusters/{identity_cluster}/cache/live")
    assert live.status_code == 200
    assert live.text.count('<polyline class="series') == 1, "Redis memory of idp1 (idp2 down)"
    assert f'data-source="{IDP1}"' in live.text and "(latest 2 MiB, 1 point)" in live.text
    assert 'hx-trigger="every' in live.text
    assert hop_class(live.text, IDP2, "Redis") == "health-critical"
    assert hop_class(live.text, IDP1, "Redis") == "health-ok"
    assert "Redis is down" in live.text
    assert hops_cell(live.text, IDP1) == "every hop up"
    assert f"redis on {IDP2}: down" in hops_cell(live.text, IDP2)

    answer = (await api.get(f"/api/v1/clusters/{identity_cluster}/cache")).json()
    assert [a["key"] for a in answer["open_alerts"]] == ["redis:idp2"]
    idp2 = next(n for n in answer["nodes"] if n["host"] == IDP2)
    assert not idp2["up"]

    await record(app_manager, identity_cluster, redis_down=None)
    html = (await gui.get(f"/clusters/{identity_cluster}/cache")).text
    assert hop_class(html, IDP2, "Redis") == "health-ok"
    assert "No open alert." in html
    assert "Redis is down" in html  # the episode stays listed, resolved


async def test_cluster_page_links_to_the_cache_page(
    gui: httpx.AsyncClient, identity_cluster: str
) -> None:
    html = (await gui.get(f"/clusters/{identity_cluster}")).text
    assert f'href="/clusters/{identity_cluster}/cache"' in html
