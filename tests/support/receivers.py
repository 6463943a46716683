"""Local receivers of notifications, on 127.0.0.1 only: an SMTP relay (aiosmtpd) that
requires STARTTLS with a self-signed certificate made here and checks a login, and an
HTTP receiver that records the JSON it is posted, can fail its first requests, or
hang."""

from __future__ import annotations

import datetime
import ipaddress
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = "127.0.0.1"
USER = "alerts@example.org"
PASSWORD = "smtp-Pa55word-xyz"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and localhost) and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "relay.crt", folder / "relay.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@dataclass
class Relay:
    """What the SMTP relay got: one parsed message per delivery."""

    port: int
    ca_file: Path
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)


class _Handler:
    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        mail = message_from_bytes(envelope.content, policy=default)
        assert isinstance(mail, EmailMessage)
        self.relay.messages.append(mail)
        self.relay.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 OK"


def _authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword)
        and data.login.decode() == USER
        and data.password.decode() == PASSWORD
    )
    return AuthResult(success=ok, handled=False)


class _Controller(Controller):
    def __init__(self, relay: Relay, cert: Path, key: Path) -> None:
        import ssl

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self._tls = context
        super().__init__(_Handler(relay), hostname=LOOPBACK, port=relay.port)

    def factory(self) -> SMTP:
        return SMTP(
            self.handler,
            tls_context=self._tls,
            require_starttls=True,
            auth_required=True,
            authenticator=_authenticator,
        )


@contextmanager
def smtp_relay(folder: Path, port: int) -> Iterator[Relay]:
    """An SMTP relay on 127.0.0.1:``port`` requiring STARTTLS then a login."""
    cert, key = self_signed(folder)
    relay = Relay(port=port, ca_file=cert)
    controller = _Controller(relay, cert, key)
    controller.start()
    try:
        yield relay
    finally:
        controller.stop()


@dataclass
class Receiver:
    """What the HTTP receiver got, and how it answers."""

    url: str = ""
    bodies: list[dict[str, Any]] = field(default_factory=list)
    #: Answer 500 to this many requests first.
    fail_first: int = 0
    #: Seconds to wait before answering (a hanging receiver).
    hang: float = 0.0
    requests: int = 0
    #: Requests that arrived (counted before any hang).
    arrived: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def http_receiver(
    *, fail_first: int = 0, hang: float = 0.0, path: str = "/hook"
) -> Iterator[Receiver]:
    """An HTTP server on 127.0.0.1 recording each JSON body posted to ``path``."""
    receiver = Receiver(fail_first=fail_first, hang=hang)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.arrived += 1
            if receiver.hang:
                time.sleep(receiver.hang)
            with receiver.lock:
                receiver.requests += 1
                failing = receiver.requests <= receiver.fail_first
                if not failing and self.path == path:
                    receiver.bodies.append(json.loads(body))
            self.send_response(500 if failing else 200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://{LOOPBACK}:{server.server_address[1]}{path}"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
