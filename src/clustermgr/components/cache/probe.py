"""What status and the watcher read on a host of the cache chain, in one round trip.

The script runs on the host (``python3``, stdlib only) and prints one JSON
object; its request, which holds the Redis password, comes on stdin.  It asks
Redis with AUTH over a few lines of RESP, reads twemproxy's stats port (raw
JSON over TCP), tests which ports listen, and writes or reads a path-check key
through the node's 127.0.0.1:7000.  Only numbers and states leave the host.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from clustermgr import topology
from clustermgr.redact import Secret
from clustermgr.remote.command import Command

#: A few lines of RESP for scripts that run on hosts (stdlib only): ``resp(sock, file,
#: *args)`` sends one command and returns its reply (str, or None for a nil bulk);
#: an error reply raises OSError.
RESP = r"""
def resp(s, f, *args):
    parts = [str(a).encode() for a in args]
    s.sendall(b"*%d\r\n" % len(parts)
              + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise OSError("connection closed")
    if line[:1] == b"-":
        raise OSError(line[1:-2].decode())
    if line[:1] == b"$":
        size = int(line[1:-2])
        return None if size < 0 else f.read(size + 2)[:-2].decode()
    return line[1:-2].decode()
"""

SCRIPT = (
    RESP
    + r"""
import json, socket, sys
req = json.load(sys.stdin)
out = {"ports": {}}

def call(port, *commands, timeout=2.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    f = s.makefile("rb")
    try:
        replies = [resp(s, f, *cmd) for cmd in (("AUTH", req["password"]),) + commands]
        return replies[1:]
    finally:
        f.close(); s.close()

def safe(fn):
    try:
        return {"ok": True, "value": fn()}
    except Exception as exc:
        return {"ok": False, "error": str(exc)[:200].replace(req["password"], "********")}

for port in req.get("ports", []):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        out["ports"][str(port)] = True
    except OSError:
        out["ports"][str(port)] = False
if req.get("redis_port"):
    out["redis"] = safe(lambda: call(req["redis_port"], ("INFO",))[0])
if req.get("stats_port"):
    def stats():
        s = socket.create_connection(("127.0.0.1", req["stats_port"]), timeout=2)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        return json.loads(data)
    out["stats"] = safe(stats)
out["tunnels"] = {n: safe(lambda p=p: call(p, ("PING",))[0])
                  for n, p in req.get("tunnels", {}).items()}
if req.get("write"):
    w = req["write"]
    out["write"] = safe(lambda: call(w["port"], ("SET", w["key"], w["value"], "EX", 60))[0])
if req.get("read"):
    r = req["read"]
    out["read"] = safe(lambda: call(r["port"], ("GET", r["key"]))[0])
print(json.dumps(out))
"""
)


@dataclass(frozen=True)
class ProbeRequest:
    password: Secret
    ports: tuple[int, ...] = ()
    redis: bool = False
    stats: bool = False
    #: node name -> the proxy's local tunnel port to it
    tunnels: dict[str, int] = field(default_factory=dict)
    write: tuple[str, str] | None = None
    read: str | None = None

    def command(self) -> Command:
        data: dict[str, Any] = {
            "password": self.password.reveal(),
            "ports": list(self.ports),
            "redis_port": topology.REDIS.port if self.redis else None,
            "stats_port": topology.TWEMPROXY_STATS.port if self.stats else None,
            "tunnels": self.tunnels,
        }
        local = topology.STUNNEL_CACHE_CLIENT.port
        if self.write:
            data["write"] = {"port": local, "key": self.write[0], "value": self.write[1]}
        if self.read:
            data["read"] = {"port": local, "key": self.read}
        stdin = Secret(json.dumps(data), label="cache-probe")
        return Command.of("python3", "-c", SCRIPT, stdin=stdin)


def parse_info(text: str) -> dict[str, str]:
    """Redis INFO as a flat mapping."""
    out = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            key, _, value = line.partition(":")
            out[key.strip()] = value.strip()
    return out


def redis_figures(info: dict[str, str]) -> dict[str, float | int | None]:
    """Memory, hit rate and keys from INFO."""
    hits = int(info.get("keyspace_hits", "0") or 0)
    misses = int(info.get("keyspace_misses", "0") or 0)
    keys = 0
    for name, value in info.items():
        if name.startswith("db") and "keys=" in value:
            fields = dict(p.split("=", 1) for p in value.split(",") if "=" in p)
            keys += int(fields.get("keys", "0"))
    return {
        "used_memory": int(info.get("used_memory", "0") or 0),
        "hit_rate": round(hits / (hits + misses), 4) if hits + misses else None,
        "hits": hits,
        "misses": misses,
        "keys": keys,
    }
