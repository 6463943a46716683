"""The command line: read ox-ldap.properties, start logging, serve, keep a pid file.

``python3 -I oxauth.pyz --help`` on a lab host (the zipapp's ``__main__`` calls
:func:`main`); ``python -m clustermgr.lab.gluu.oxauth`` from a checkout.  Failures
to start are logged and exit 1, so the init script reports them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import ssl
import sys
from collections.abc import Sequence

from .app import OxAuth
from .cache import CacheService
from .keys import KeystoreError, KeystoreFile
from .ldap import Ldap, LdapSettings, parse_properties
from .logs import log, setup_logging
from .paths import (
    HTTPD_CERT,
    HTTPD_KEY,
    OX_LDAP_PROPERTIES,
    OXAUTH_KEYSTORE,
    OXAUTH_LOG_DIR,
    SUFFIX,
)
from .server import OxAuthServer, serve_until_signalled
from .tokens import DEFAULT_LIFETIME


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="oxAuth stand-in for the clustermgr lab")
    parser.add_argument(
        "--ldap-properties",
        "--config",
        default=OX_LDAP_PROPERTIES,
        help="ox-ldap.properties to read (default: %(default)s)",
    )
    parser.add_argument("--bind", default="0.0.0.0", help="address to listen on")  # noqa: S104
    parser.add_argument("--port", type=int, default=443)
    parser.add_argument("--cert", default=HTTPD_CERT, help="HTTPS certificate (PEM)")
    parser.add_argument("--key", default=HTTPD_KEY, help="HTTPS private key (PEM)")
    parser.add_argument(
        "--hostname",
        default=socket.gethostname(),
        help="the Gluu hostname (in a cluster, the load balancer's): the issuer is "
        "https://HOSTNAME",
    )
    parser.add_argument(
        "--keystore",
        default=OXAUTH_KEYSTORE,
        help="the token signing keys, read again when the file changes (default: %(default)s)",
    )
    parser.add_argument(
        "--token-lifetime",
        type=_seconds,
        default=DEFAULT_LIFETIME,
        help="seconds a token is valid (default: %(default)s)",
    )
    parser.add_argument("--suffix", default=SUFFIX, help="directory suffix (default: o=gluu)")
    parser.add_argument("--log-dir", default=OXAUTH_LOG_DIR)
    parser.add_argument("--pid-file", help="write the process id here while running")
    return parser.parse_args(argv)


def _seconds(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return value


def build(args: argparse.Namespace) -> OxAuthServer:
    """Read ox-ldap.properties, load the certificate and bind the port."""
    with open(args.ldap_properties, encoding="utf-8") as props:
        settings = LdapSettings.from_properties(parse_properties(props.read()))
    ldap = Ldap(settings)
    keys = KeystoreFile(args.keystore)
    with contextlib.suppress(KeystoreError):
        keys.current()  # logs what it loaded; logins answer 503 until the file is valid
    app = OxAuth(
        ldap=ldap,
        cache=CacheService(ldap, args.suffix),
        suffix=args.suffix,
        issuer_host=args.hostname,
        node=socket.gethostname(),
        keys=keys,
        token_lifetime=args.token_lifetime,
    )
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(args.cert, args.key)
    log.info("LDAP servers: %s, bind DN: %s", " ".join(settings.uris), settings.bind_dn)
    return OxAuthServer((args.bind, args.port), app, tls)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.log_dir)
    log.info("Starting oxAuth (lab stand-in), pid %d, node %s", os.getpid(), socket.gethostname())
    try:
        server = build(args)
    except (OSError, ValueError) as exc:
        log.error("Failed to start oxAuth: %s", exc)
        sys.stderr.write(f"oxauth: {exc}\n")
        return 1
    try:
        if args.pid_file:
            _write_pidfile(args.pid_file)
        serve_until_signalled(server)
    except OSError as exc:
        log.error("oxAuth failed: %s", exc)
        return 1
    finally:
        server.server_close()
        if args.pid_file:
            _remove_pidfile(args.pid_file)
    log.info("oxAuth stopped")
    return 0


def _write_pidfile(path: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="ascii") as out:
        out.write(f"{os.getpid()}\n")
    os.replace(tmp, path)


def _remove_pidfile(path: str) -> None:
    try:
        with open(path, encoding="ascii") as pidfile:
            ours = pidfile.read().strip() == str(os.getpid())
        if ours:
            os.unlink(path)
    except OSError:
        pass
