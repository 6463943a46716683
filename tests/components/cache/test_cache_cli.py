"""``clustermgr cache status`` for people: tables and words, never a Python dict."""

from __future__ import annotations

import pytest

from clustermgr.components.cache import status as cachestatus
from clustermgr.components.cache.cli import show_status


def test_redis_figures_read_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    node = cachestatus.NodeChain(
        "idp1.lab.test",
        "idp1",
        [cachestatus.Hop("idp1.lab.test", "stunnel client", True, "", 7001)],
        {"used_memory": 1063664, "hit_rate": 0.9712, "hits": 100, "misses": 3, "keys": 42},
    )
    down = cachestatus.NodeChain(
        "idp2.lab.test", "idp2", [cachestatus.Hop("idp2.lab.test", "redis", False, "refused")]
    )
    result = cachestatus.CacheStatus(
        "lab",
        "proxy1.lab.test",
        [node, down],
        [cachestatus.Hop("proxy1.lab.test", "twemproxy", True, "", 22122)],
        None,
        {"written_on": "idp1.lab.test", "read_on": "idp2.lab.test", "ok": False},
        ["path check: read through idp2.lab.test: refused"],
    )
    show_status(result)
    out, err = capsys.readouterr()
    assert err == ""
    assert "{" not in out and "used_memory" not in out
    nodes, hops, verdicts = out.split("\n\n")
    assert nodes.splitlines() == [
        "NODE           CHAIN   REDIS MEMORY  KEYS  HIT RATE",
        "idp1.lab.test  up      1.0 MiB       42    97 %",
        "idp2.lab.test  broken  -             -     -",
    ]
    assert hops.splitlines()[1:] == [
        "idp1.lab.test  stunnel client (:7001)  idp1.lab.test    up",
        "idp2.lab.test  redis                   idp2.lab.test    down   refused",
        "proxy          twemproxy (:22122)      proxy1.lab.test  up",
    ]
    assert verdicts.splitlines() == [
        "path check: written through idp1.lab.test, read through idp2.lab.test: failed",
        "problem: path check: read through idp2.lab.test: refused",
    ]
