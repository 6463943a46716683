"""The manager's own health check of every identity node (open-source NGINX has none).

Each node is asked directly at ``https://ADDRESS:PORT/oxauth/restv1/health-check``,
not through the load balancer, so a node that NGINX no longer sends traffic to is
still seen coming back.  The node's certificate is verified as the load balancer
verifies it: issued by the cluster CA for the node's hostname (sent as SNI).  A
node presenting any other certificate fails its check.  A node that answers is
also asked for its OpenID discovery, whose ``issuer`` every node must share.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Sequence

import httpx

from clustermgr.components.lb.health import Probe
from clustermgr.components.lb.model import Backend
from clustermgr.topology import DISCOVERY_PATH, HEALTH_CHECK_PATH
from clustermgr.validation import host_port

#: What is kept of a node's issuer (longer ones are cut).
MAX_ISSUER = 256


def health_url(backend: Backend) -> str:
    return f"https://{host_port(backend.address, backend.port)}{HEALTH_CHECK_PATH}"


def discovery_url(backend: Backend) -> str:
    return f"https://{host_port(backend.address, backend.port)}{DISCOVERY_PATH}"


def verifying(ca_pem: str) -> ssl.SSLContext:
    """Trusts the cluster CA only, and checks the hostname."""
    return ssl.create_default_context(cadata=ca_pem)


async def probe(client: httpx.AsyncClient, backend: Backend) -> Probe:
    started = time.monotonic()
    try:
        response = await client.get(
            health_url(backend), extensions={"sni_hostname": backend.hostname}
        )
    except httpx.HTTPError as exc:
        return Probe(backend.hostname, False, None, None, error=_describe(exc))
    seconds = round(time.monotonic() - started, 4)
    healthy = response.status_code == 200
    error = "" if healthy else f"HTTP {response.status_code}"
    issuer = await discovered_issuer(client, backend)
    return Probe(backend.hostname, healthy, response.status_code, seconds, error, issuer)


async def discovered_issuer(client: httpx.AsyncClient, backend: Backend) -> str | None:
    """The ``issuer`` of the node's OpenID discovery; None when it has none to read."""
    try:
        response = await client.get(
            discovery_url(backend), extensions={"sni_hostname": backend.hostname}
        )
        issuer = response.json().get("issuer") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    if not isinstance(issuer, str):
        return None
    # Shown in alerts and status: printable, and no longer than a URL needs to be.
    return "".join(c if c.isprintable() else "?" for c in issuer[:MAX_ISSUER])


async def probe_all(backends: Sequence[Backend], timeout: float, ca_pem: str) -> dict[str, Probe]:
    """Every node at once; each gets ``timeout`` seconds; ``ca_pem``: the cluster CA."""
    async with httpx.AsyncClient(verify=verifying(ca_pem), timeout=timeout) as client:
        probes = await asyncio.gather(*(probe(client, b) for b in backends))
    return {p.hostname: p for p in probes}


def _describe(exc: httpx.HTTPError) -> str:
    kind = type(exc).__name__
    text = str(exc).strip()
    return f"{kind}: {text}" if text else kind
