"""Plan NGINX on the proxy (pure): install, key, certificate, config, running;
and each identity node's web certificate from the cluster CA, which the proxy verifies.

Every config change is validated with ``nginx -t`` where it will live (it
follows includes), restored by the executor when invalid, and takes effect by
a reload, never a restart: the master starts new workers with the new files and
old workers finish the requests they hold, so no connection is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from clustermgr.components.base import packages
from clustermgr.components.lb import render
from clustermgr.components.lb.model import (
    DEFAULT_SITE,
    SITE_FILE,
    TLS,
    UPSTREAMS_FILE,
    Balancer,
)
from clustermgr.facts.services import ServiceControl
from clustermgr.pki import nodetls
from clustermgr.pki.nodeweb import NGINX_TLS_INCLUDE, NODE_WEB_TLS, nginx_tls_include_issued
from clustermgr.plan.model import FileChange, Plan, Step
from clustermgr.remote.command import Command

PACKAGES = ("nginx",)


@dataclass(frozen=True)
class ProxyFacts:
    #: OS family (``debian``, ``rhel``).
    family: str
    #: ``systemd`` or ``sysv``.
    init: str


@dataclass(frozen=True)
class Certificate:
    """The cluster CA's certificate (PEM), which the proxy verifies the nodes with, and
    the proxy's own HTTPS certificate the CA issued (None: the user's own, imported)."""

    ca_pem: bytes
    cert_pem: bytes | None = None


def nginx_test() -> Command:
    return Command.of("nginx", "-t", "-q")


def _validate(_: str) -> Command:
    return nginx_test()


# A reload returns once the master got the signal; this waits until workers of the
# new config serve (the old ones no longer accept), so what follows sees the change.
_RELOAD = """\
workers() {
  ps -eo pid=,args= | awk '$2=="nginx:" && $3=="worker" && $4=="process" && NF==4 {print $1}'
}
svc_running nginx || exit 0  # not running: nothing to reload
old=" $(workers | tr '\\n' ' ')"
svc nginx reload >/dev/null || exit 1
for i in $(seq 200); do
  now=$(workers)
  still=no
  for p in $now; do case "$old" in *" $p "*) still=yes ;; esac; done
  if [ "$still" = no ] && [ -n "$now" ]; then exit 0; fi
  sleep 0.05
done
echo "nginx did not start workers with the new config within 10 s" >&2
exit 1
"""


def reload_if_running(init: str) -> Command:
    """A graceful reload (new workers; the old ones finish their requests), waited for;
    nothing when nginx is stopped."""
    return ServiceControl(init).script(_RELOAD)


def _running(init: str) -> Command:
    return ServiceControl(init).script("svc_enabled nginx && svc_running nginx")


def _start(init: str) -> tuple[Command, ...]:
    services = ServiceControl(init)
    return (
        services.script("svc_enable nginx"),
        services.script("svc_running nginx || svc nginx start >/dev/null"),
    )


def key_step(host: str, name: str) -> Step:
    """The proxy makes its HTTPS key and CSR (for ``name``) itself, once."""
    return nodetls.key_step(host, TLS, name=name, title="make the HTTPS key")


# Old workers keep serving the requests they hold after a reload, then exit: once
# none is left, no request is on its way to a node the new config took out.
_SETTLE = """\
for i in $(seq "$1"); do
  ps -eo args= | grep -q '^nginx: worker process is shutting down' || exit 0
  sleep 0.1
done
echo "nginx workers of the previous config are still finishing requests" >&2
exit 1
"""


def settle_step(host: str, seconds: int = 60) -> Step:
    """Wait until the workers of the previous config have finished their requests."""
    return Step(
        host,
        "wait for requests in flight",
        "the previous config's workers finish what they hold",
        commands=(Command.script(_SETTLE, str(seconds * 10)),),
    )


def upstreams_step(balancer: Balancer, init: str) -> Step:
    """Only the upstreams (health changes, drains): validated, then a graceful reload."""
    serving = [b.hostname for b in balancer.backends if b.serving]
    return Step(
        balancer.proxy,
        "write the upstreams",
        f"serving: {', '.join(serving) or 'none'}",
        files=(
            FileChange(
                UPSTREAMS_FILE,
                render.upstreams(balancer).encode(),
                validate=_validate,
                validate_in_place=True,
            ),
        ),
        commands=(reload_if_running(init),),
    )


def config_step(balancer: Balancer, init: str, cert: Certificate) -> Step:
    ca_file, own_file = TLS.cert_files(cert.ca_pem, cert.cert_pem or b"")
    files = [ca_file] if cert.cert_pem is None else [ca_file, own_file]
    files += [
        FileChange(UPSTREAMS_FILE, render.upstreams(balancer).encode()),
        FileChange(
            SITE_FILE, render.site(balancer).encode(), validate=_validate, validate_in_place=True
        ),
    ]
    return Step(
        balancer.proxy,
        "configure the load balancer",
        "TLS on 443, 80 redirects, the identity nodes behind two upstreams, their"
        " certificates verified",
        files=tuple(files),
        commands=(reload_if_running(init),),
    )


def node_key_step(host: str) -> Step:
    """The identity node makes its web server's key and CSR itself, once."""
    return nodetls.key_step(host, NODE_WEB_TLS, purpose="its web server")


def node_web_step(host: str, ca_pem: bytes, cert_pem: bytes, init: str) -> Step:
    """The node's web server serves the certificate the cluster CA issued for it:
    the files, the include naming them (``nginx -t``), a graceful reload."""
    include = FileChange(
        NGINX_TLS_INCLUDE,
        nginx_tls_include_issued().encode(),
        validate=_validate,
        validate_in_place=True,
    )
    return Step(
        host,
        "serve HTTPS with the cluster CA's certificate",
        "the load balancer and the health probe verify this node's certificate",
        files=(*NODE_WEB_TLS.cert_files(ca_pem, cert_pem), include),
        commands=(reload_if_running(init),),
    )


def plan_node_web(
    cluster: str, ca_pem: bytes, certs: Mapping[str, bytes], inits: Mapping[str, str]
) -> Plan:
    """``certs``: identity node -> its web certificate; ``inits``: node -> its init."""
    steps = tuple(node_web_step(h, ca_pem, c, inits[h]) for h, c in certs.items())
    return Plan(f"load balancer of cluster {cluster}: the nodes' certificates", steps)


def plan_prepare(cluster: str, balancer: Balancer, facts: ProxyFacts, *, make_key: bool) -> Plan:
    """Phase 1: nginx installed, the default site gone, the proxy's key and CSR made;
    each identity node's web key and CSR made."""
    host = balancer.proxy
    steps = [
        Step(
            host,
            "install nginx",
            "the load balancer",
            commands=(packages.install(facts.family, PACKAGES),),
            check=packages.check_installed(facts.family, PACKAGES),
            unchanged_reason="nginx is installed",
        ),
        Step(
            host,
            "remove the default site",
            "it claims port 80 as the default server",
            commands=(Command.of("rm", "-f", DEFAULT_SITE),),
            check=Command.script('test ! -e "$1"', DEFAULT_SITE),
            unchanged_reason="no default site",
        ),
    ]
    if make_key:
        steps.append(key_step(host, balancer.server_name))
    steps += [node_key_step(b.hostname) for b in balancer.backends]
    return Plan(f"load balancer of cluster {cluster}: prepare", tuple(steps))


def plan_configure(cluster: str, balancer: Balancer, facts: ProxyFacts, cert: Certificate) -> Plan:
    """Phase 3: certificate and config (validated, reloaded), nginx enabled and running.

    ``cert.cert_pem`` None: the certificate is the user's own (imported), already on
    the proxy; the cluster CA's certificate is written all the same.
    """
    steps = (
        config_step(balancer, facts.init, cert),
        Step(
            balancer.proxy,
            "enable and start nginx",
            "the load balancer serves, also after a reboot",
            commands=_start(facts.init),
            check=_running(facts.init),
            unchanged_reason="nginx is enabled and running",
        ),
    )
    return Plan(f"load balancer of cluster {cluster}", steps)
