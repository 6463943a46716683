"""The proxy's TLS server reloads without a refused or reset connection.

Real stunnel (Debian's) on loopback in front of a small echo server, TLS clients
connecting without pause while stunnel is sent SIGHUP every 50 ms.  Started through
the launcher the cache installs (its listener bound there and handed over), no
connection fails; started plainly, as Debian's stunnel4 service starts an instance,
the same reloads refuse or reset connections: the check can fail, and this is why the
proxy's server has a service of its own.
"""

from __future__ import annotations

import signal
import socket
import socketserver
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clustermgr import topology
from clustermgr.components.cache import held, render
from clustermgr.components.cache.model import PROXY_SERVER_CONF, layout
from clustermgr.redact import Secret
from gluu_lab import free_port

pytestmark = pytest.mark.skipif(
    not Path(held.STUNNEL).exists(), reason=f"{held.STUNNEL} is not installed"
)

#: How long the clients run, and how often stunnel reloads meanwhile.
SECONDS = 3.0
RELOAD_EVERY = 0.05


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.sendall(self.request.recv(64))


@pytest.fixture(scope="module")
def backend() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    home = tmp_path_factory.mktemp("tls")
    cert, key = home / "cert.pem", home / "key.pem"
    request = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    subprocess.run(
        [*request, "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def _conf(home: Path, port: int, backend: int, tls: tuple[Path, Path]) -> Path:
    conf = home / "server.conf"
    conf.write_text(
        f"pid = {home / 'stunnel.pid'}\nforeground = yes\noutput = {home / 'stunnel.log'}\n\n"
        f"[twemproxy]\naccept = 127.0.0.1:{port}\nconnect = 127.0.0.1:{backend}\n"
        f"cert = {tls[0]}\nkey = {tls[1]}\n"
    )
    return conf


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def _listener_fd(port: int) -> str:
    """The descriptor number of the process listening on ``port`` (``ss``)."""
    shown = subprocess.run(
        ["ss", "-Hltnp", f"sport = :{port}"], check=True, capture_output=True, text=True
    ).stdout
    return shown.rsplit("fd=", 1)[-1].rstrip(")\n ")


def _reloading(command: list[str], port: int) -> tuple[int, int, list[str], str]:
    """Run stunnel by ``command``; connect without pause while reloading it.

    Returns (reloads sent, connections that echoed, failures, the listener's descriptor).
    """
    daemon = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not _listening(port):
            assert daemon.poll() is None and time.monotonic() < deadline, "stunnel did not start"
            time.sleep(0.05)
        listener = _listener_fd(port)
        client = ssl.create_default_context()
        client.check_hostname = False
        client.verify_mode = ssl.CERT_NONE
        stop = time.monotonic() + SECONDS
        done: list[int] = []
        failures: list[str] = []

        def connect() -> None:
            while time.monotonic() < stop:
                try:
                    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
                    with raw, client.wrap_socket(raw) as conn:
                        conn.sendall(b"ping")
                        answer = conn.recv(64)
                    if answer != b"ping":
                        raise ConnectionError(f"answered {answer!r}")
                    done.append(1)
                except (OSError, ConnectionError) as exc:
                    failures.append(repr(exc))

        clients = [threading.Thread(target=connect) for _ in range(4)]
        for thread in clients:
            thread.start()
        reloads = 0
        while time.monotonic() < stop:
            daemon.send_signal(signal.SIGHUP)
            reloads += 1
            time.sleep(RELOAD_EVERY)
        for thread in clients:
            thread.join()
        assert daemon.poll() is None, "stunnel exited"
    finally:
        daemon.terminate()
        daemon.wait(10)
    return reloads, len(done), failures, listener


def test_a_held_listener_loses_no_connection_across_reloads(
    tmp_path: Path, backend: int, tls: tuple[Path, Path]
) -> None:
    launcher = tmp_path / "stunnel-held"
    launcher.write_text(held.launcher())
    launcher.chmod(0o755)
    port = free_port()
    conf = _conf(tmp_path, port, backend, tls)
    reloads, done, failures, listener = _reloading([str(launcher), str(conf)], port)
    print(f"held: {reloads} reloads, {done} connections, {len(failures)} failed")
    # the socket the launcher bound, handed over as the first descriptor
    assert listener == "3"
    # every SIGHUP was a reload (the configuration read again), not ignored
    log = (tmp_path / "stunnel.log").read_text()
    assert log.count("Reading configuration from file") >= reloads // 2
    assert done > 50 and failures == []


def test_stunnel_binding_its_own_listener_refuses_connections_while_it_reloads(
    tmp_path: Path, backend: int, tls: tuple[Path, Path]
) -> None:
    port = free_port()
    conf = _conf(tmp_path, port, backend, tls)
    reloads, done, failures, listener = _reloading([held.STUNNEL, str(conf)], port)
    print(f"plain: {reloads} reloads, {done} connections, {len(failures)} failed")
    assert listener != "3"
    assert done > 0 and failures, "stunnel reloaded without closing its listener"


def test_the_init_script_runs_the_server_through_the_launcher_from_one_set_of_paths() -> None:
    script = held.init_script()
    conf = render.proxy_server_conf(
        layout(["idp1.example.org"], "proxy1.example.org", Secret("pw-held-test", label="t"))
    )
    pidfile = topology.stunnel_pidfile(topology.STUNNEL_PROXY_SERVER)
    assert f"pid = {pidfile}\n" in conf
    assert f"PIDFILE={pidfile}\n" in script and f"CONF={PROXY_SERVER_CONF}\n" in script
    assert f"LAUNCHER={held.LAUNCHER}\n" in script
    assert "# Provides:          clustermgr-twemproxy\n" in script
    assert '--startas "$LAUNCHER"' in script
    assert "reload)" in script and "--signal HUP" in script
    subprocess.run(["sh", "-n"], input=script.encode(), check=True)
    compile(held.launcher(), held.LAUNCHER, "exec")
