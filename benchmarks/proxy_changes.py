"""Benchmark: the proxy's changes under a steady login loop (failed logins).

Run as root on demand (not part of the test suite):

    .venv/bin/python benchmarks/proxy_changes.py [--rate 25] [--times 100]

Brings up a lab of its own with the tests' harness (two identity nodes and a proxy,
Gluu Server, LDAP replication, the cache and the balancer), then, while logins run
through the balancer at ``--rate`` per second (each token validated on the other
node), ``--times`` times each:

1. twemproxy restarted the way a node joining or leaving restarts it (a standby
   takes the new connections, :mod:`clustermgr.components.cache.standby`);
2. the proxy's TLS server reloaded (its listener held, :mod:`...cache.held`).

Prints one JSON object: per change, the logins, the failed ones (the first ten
shown) and the seconds each change took (mean and max).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))

from cachelab import configure
from clustermgr.components.cache import plan, standby
from clustermgr.components.cache.model import PROXY_SERVER_SERVICE
from clustermgr.remote.command import Command
from labfixture import SLOT, Lab, running_lab
from lblab import balance
from ldaplab import replicate
from loginloop import looping


async def _under_logins(lab: Lab, commands: tuple[Command, ...], rate: float, times: int) -> Any:
    took: list[float] = []
    async with lab.access() as access:
        proxy = lab.host("proxy1").fqdn
        conn = await access.connection(proxy)
        async with looping(lab, ["idp1", "idp2"], rate=rate) as loop:
            await loop.wait_logins(int(rate * 2))
            for _ in range(times):
                started = time.monotonic()
                for command in commands:
                    (await conn.run(command)).check()
                took.append(time.monotonic() - started)
                await asyncio.sleep(0.2)
            await loop.wait_logins(int(rate))
    return {
        "logins": loop.logins,
        "failed": len(loop.failures),
        "failures": [str(f) for f in loop.failures[:10]],
        "seconds_mean": round(sum(took) / len(took), 3),
        "seconds_max": round(max(took), 3),
    }


async def measure(rate: float, times: int) -> dict[str, Any]:
    prefix, subnet = SLOT.spare()
    out: dict[str, Any] = {"rate": rate, "times": times}
    with tempfile.TemporaryDirectory(prefix="cmbproxy-") as tmp:
        async with running_lab(Path(tmp), prefix=prefix, subnet=subnet) as lab:
            for step in (replicate, configure, balance):
                if not (await step(lab))["ok"]:
                    raise SystemExit(f"{step.__name__} failed")
            async with lab.access() as access:
                services = (await access.platform(lab.host("proxy1").fqdn)).services
            restart = (standby.restart_with_standby(services),)
            out["twemproxy_restart"] = await _under_logins(lab, restart, rate, times)
            reload = plan.reload(services, PROXY_SERVER_SERVICE)
            out["tls_server_reload"] = await _under_logins(lab, reload, rate, times)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=25.0, help="logins per second")
    parser.add_argument("--times", type=int, default=100, help="changes of each kind")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.rate, args.times)), indent=2))


if __name__ == "__main__":
    main()
