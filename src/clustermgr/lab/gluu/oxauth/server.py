"""HTTPS in front of :class:`~.app.OxAuth`, served until SIGTERM or SIGINT.

Jetty's role on a real node: TLS with the node's httpd certificate, HTTP/1.1
keep-alive, JSON answers, request threads named as Jetty names them (``qtpPID-N``,
so log lines look alike).  Handshakes happen in the request threads, so one slow
client never stalls the acceptor.  A clean exit on SIGTERM is what the init
script's ``start-stop-daemon --stop`` expects.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import urlsplit

from .app import OxAuth
from .logs import http_log, log
from .messages import Request, Response

HANDSHAKE_TIMEOUT = 10.0
MAX_BODY = 64 * 1024

_request_threads = itertools.count(1)


class OxAuthServer(ThreadingHTTPServer):
    """A threading HTTPS server; TLS handshakes happen in the request threads."""

    daemon_threads = True
    #: Jetty's accept queue is deep; socketserver's default of 5 drops SYNs under load
    #: (clients then wait 1 s for a retransmit).
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: OxAuth, tls: ssl.SSLContext) -> None:
        super().__init__(address, Handler)
        self.app = app
        self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def handle_error(self, request: Any, client_address: Any) -> None:
        http_log.debug("Connection from %s failed: %s", client_address, sys.exc_info()[1])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "oxAuth-lab-stand-in"
    timeout = 30  # idle keep-alive connections are closed after this

    def setup(self) -> None:
        threading.current_thread().name = f"qtp{os.getpid()}-{next(_request_threads)}"
        conn = cast(ssl.SSLSocket, self.request)
        conn.settimeout(HANDSHAKE_TIMEOUT)
        conn.do_handshake()
        super().setup()

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()  # a GET's status and headers, without the body

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()  # routes answer 405 in the one error shape

    def do_DELETE(self) -> None:
        self._serve()

    def version_string(self) -> str:
        return self.server_version

    def _serve(self) -> None:
        length = self._content_length()
        if length is None:
            self.close_connection = True  # the body cannot be skipped: drop the connection
            return
        request = Request(
            method=self.command,
            path=urlsplit(self.path).path,
            content_type=self.headers.get("Content-Type", ""),
            body=self.rfile.read(length) if length else b"",
            client_ip=self.client_address[0],
        )
        self._send(cast(OxAuthServer, self.server).app.handle(request))

    def _content_length(self) -> int | None:
        """The body's length, or None after answering 400/413 for a bad or huge one."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if 0 <= length <= MAX_BODY:
            return length
        status, what = (413, "body too large") if length > MAX_BODY else (400, "bad length")
        self._send(Response(status, {"error": "invalid_request", "error_description": what}))
        return None

    def _send(self, response: Response) -> None:
        data = json.dumps(response.body).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        http_log.debug("%s %s", self.client_address[0], format % args)


def serve_until_signalled(server: OxAuthServer) -> None:
    """Serve in a thread until SIGTERM or SIGINT, then stop accepting and return."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    worker = threading.Thread(target=server.serve_forever, name="qtp-acceptor", daemon=True)
    worker.start()
    host, port = server.server_address[:2]
    log.info("oxAuth started: https://%s:%s, issuer %s", host, port, server.app.issuer)
    stop.wait()
    log.info("Stopping oxAuth")
    server.shutdown()
