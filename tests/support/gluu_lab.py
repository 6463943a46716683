"""Real slapd, Redis and the oxAuth stand-in on loopback ports, for the Gluu look-alike tests.

Each daemon runs as a child of the test process in its own temporary directory
(config, database, socket, logs), on a free 127.0.0.1 port; the machine's own
/etc/ldap, /etc/redis and services are never touched.  Teardown stops exactly
the processes started here, by PID.  The app runs as lab hosts get it: the
zipapp of :func:`~clustermgr.lab.gluu.bundle.oxauth_zipapp` under
``/usr/bin/python3 -I``, the interpreter lab hosts have, which proves the bundle
works and the app needs nothing but the standard library.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from clustermgr.lab.gluu import directory, oxauth
from clustermgr.lab.gluu.bundle import oxauth_zipapp

SLAPD = "/usr/sbin/slapd"
REDIS_SERVER = "/usr/bin/redis-server"
PYTHON = "/usr/bin/python3"
TOOLS = ("slapadd", "slaptest", "ldapsearch", "ldapmodify", "ldapadd", "ldapwhoami", "openssl")
READY_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0

ROOT_DN = directory.ROOT_DN
ROOT_PASSWORD = "Root-secret 42!"
ADMIN_PASSWORD = "Admin-Pa55word-xyz"
REDIS_PASSWORD = "Redis-pass-9q8w7e"
ISSUER_HOST = "idp.lab.test"

T = TypeVar("T")


def missing_tools() -> str | None:
    """Why these tests cannot run here, or None."""
    for path in (SLAPD, REDIS_SERVER, PYTHON):
        if not os.access(path, os.X_OK):
            return f"{path} is not installed"
    for tool in TOOLS:
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def free_port() -> int:
    """A loopback port nothing listens on (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    probe: Callable[[], T | None],
    what: str,
    timeout: float = READY_TIMEOUT,
    process: subprocess.Popen[bytes] | None = None,
) -> T:
    """Poll ``probe`` until it returns something other than None, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None:
            return result
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.05)


def secret_file(path: Path, text: str) -> Path:
    """A 0600 file holding ``text`` exactly (ldap-utils' ``-y`` reads it verbatim)."""
    path.touch(mode=0o600)
    path.write_text(text)
    return path


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)


# --- TLS -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Tls:
    cert: Path
    key: Path

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


def make_tls(home: Path) -> Tls:
    """A self-signed P-256 certificate for ISSUER_HOST and 127.0.0.1, valid one day."""
    cert, key = home / "httpd.crt", home / "httpd.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            f"/CN={ISSUER_HOST}",
            "-days",
            "1",
            "-addext",
            f"subjectAltName=DNS:{ISSUER_HOST},IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return Tls(cert, key)


# --- slapd ---------------------------------------------------------------------------


@dataclass
class Slapd:
    """One slapd with Gluu's schema and base data, loaded by slapadd from our renderers."""

    home: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldapi(self) -> str:
        return "ldapi://" + urllib.parse.quote(str(self.home / "ldapi"), safe="")

    @property
    def config_dir(self) -> Path:
        return self.home / "slapd.d"

    def start(self) -> None:
        log = (self.home / "slapd.log").open("ab")
        self.process = subprocess.Popen(
            [SLAPD, "-F", str(self.config_dir), "-h", f"{self.uri}/ {self.ldapi}", "-d", "0"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        wait_for(self._answers, f"slapd on {self.uri}", process=self.process)

    def _answers(self) -> bool | None:
        done = subprocess.run(["ldapwhoami", "-x", "-H", self.uri], capture_output=True)
        return True if done.returncode == 0 else None

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None

    def tool(self, tool: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """Run an ldap-utils ``tool`` as the root DN (password from a 0600 file)."""
        pwfile = self.home / "rootpw"
        return subprocess.run(
            [tool, "-x", "-H", self.uri, "-D", ROOT_DN, "-y", str(pwfile), *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )

    def search(
        self, base: str, scope: str = "base", filterstr: str = "(objectClass=*)", *attrs: str
    ) -> list[oxauth.Entry]:
        done = self.tool(
            "ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-b", base, "-s", scope, filterstr, *attrs
        )
        if done.returncode == oxauth.NO_SUCH_OBJECT:
            return []
        assert done.returncode == 0, done.stderr
        return oxauth.parse_ldif(done.stdout)

    def modify(self, ldif: str) -> None:
        done = self.tool("ldapmodify", stdin=ldif)
        assert done.returncode == 0, done.stderr


def build_slapd(home: Path) -> Slapd:
    """Render cn=config and the base data, slapadd both, start slapd; return it running."""
    home.mkdir(parents=True, exist_ok=True)
    for sub in ("slapd.d", "db", "run"):
        (home / sub).mkdir(exist_ok=True)
    secret_file(home / "rootpw", ROOT_PASSWORD)
    config = directory.slapd_config_ldif(
        root_pw_hash=directory.ssha_password(ROOT_PASSWORD),
        db_dir=str(home / "db"),
        run_dir=str(home / "run"),
        extra_schema=directory.gluu_schema_ldif(),
    )
    data = directory.base_data_ldif(
        admin_password_hash=directory.ssha_password(ADMIN_PASSWORD),
        cache_config=directory.native_cache_config(),
    )
    (home / "config.ldif").write_text(config)
    (home / "data.ldif").write_text(data)
    for database, ldif in (("0", "config.ldif"), ("1", "data.ldif")):
        subprocess.run(
            ["slapadd", "-n", database, "-F", str(home / "slapd.d"), "-l", str(home / ldif)],
            check=True,
            capture_output=True,
        )
    slapd = Slapd(home, free_port())
    slapd.start()
    return slapd


# --- Redis ---------------------------------------------------------------------------


@dataclass
class Redis:
    home: Path
    port: int
    password: str = REDIS_PASSWORD
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        conf = secret_file(
            self.home / "redis.conf",
            "\n".join(
                [
                    f"port {self.port}",
                    "bind 127.0.0.1",
                    f"requirepass {self.password}",
                    'save ""',
                    "appendonly no",
                    "daemonize no",
                    f"dir {self.home}",
                    f"logfile {self.home / 'redis.log'}",
                ]
            )
            + "\n",
        )
        self.process = subprocess.Popen(
            [REDIS_SERVER, str(conf)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
        )
        wait_for(self._pong, f"redis on port {self.port}", process=self.process)

    def _pong(self) -> bool | None:
        try:
            return self.call("PING") == "PONG" or None
        except oxauth.RedisError:
            return None

    def call(self, *command: str | int) -> Any:
        with oxauth.Resp.connect("127.0.0.1", self.port, timeout=2.0) as conn:
            conn.call("AUTH", self.password)
            return conn.call(*command)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


def build_redis(home: Path) -> Redis:
    home.mkdir(parents=True, exist_ok=True)
    redis = Redis(home, free_port())
    redis.start()
    return redis


# --- The oxAuth stand-in -------------------------------------------------------------


def write_zipapp(home: Path) -> Path:
    """The stand-in as lab hosts get it: ``oxauth_zipapp()`` written to ``home/oxauth.pyz``."""
    home.mkdir(parents=True, exist_ok=True)
    pyz = home / "oxauth.pyz"
    pyz.write_bytes(oxauth_zipapp())
    pyz.chmod(0o755)
    return pyz


@dataclass
class App:
    home: Path
    port: int
    tls: Tls
    #: The zipapp to run (see :func:`write_zipapp`).
    pyz: Path
    process: subprocess.Popen[bytes] | None = None
    extra_args: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        """A keystore of its own, as the setup program makes one at install."""
        if not self.keystore.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            self.keystore.write_text(oxauth.keystore_text(oxauth.new_keystore()))
            self.keystore.chmod(0o600)

    @property
    def keystore(self) -> Path:
        return self.home / "oxauth-keys.json"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def pid_file(self) -> Path:
        return self.home / "oxauth.pid"

    def args(self) -> list[str]:
        return [
            "--config",
            str(self.home / "ox-ldap.properties"),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--cert",
            str(self.tls.cert),
            "--key",
            str(self.tls.key),
            "--hostname",
            ISSUER_HOST,
            "--log-dir",
            str(self.log_dir),
            "--keystore",
            str(self.keystore),
        ]

    def start(self) -> None:
        out = (self.home / "app.out").open("ab")
        self.process = subprocess.Popen(
            [PYTHON, "-I", str(self.pyz), *self.args(), "--pid-file", str(self.pid_file)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        out.close()
        self.wait_ready(self.process)

    def wait_ready(self, process: subprocess.Popen[bytes] | None = None) -> None:
        path = "/.well-known/openid-configuration"
        wait_for(lambda: self._try(path), f"oxauth on port {self.port}", process=process)

    def _try(self, path: str) -> int | None:
        try:
            return self.request("GET", path)[0]
        except OSError:
            return None

    def stop(self) -> int | None:
        if self.process is None:
            return None
        stop_process(self.process)
        code, self.process = self.process.returncode, None
        return code

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, Any]:
        """(status, decoded JSON body) of one HTTPS request; errors are answers too."""
        request = urllib.request.Request(
            f"https://127.0.0.1:{self.port}{path}",
            data=body,
            method=method,
            headers={"Content-Type": content_type},
        )
        try:
            with urllib.request.urlopen(
                request, context=self.tls.client_context(), timeout=10
            ) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read())

    def get(self, path: str) -> tuple[int, Any]:
        return self.request("GET", path)

    def login(self, username: str, password: str) -> tuple[int, Any]:
        body = json.dumps({"username": username, "password": password}).encode()
        return self.request("POST", "/oxauth/restv1/login", body)

    def logs(self) -> dict[str, str]:
        return {p.name: p.read_text() for p in sorted(self.log_dir.glob("*.log"))}


def build_app(home: Path, slapd: Slapd, tls: Tls, pyz: Path) -> App:
    """The zipapp ``pyz`` pointed at ``slapd`` by a rendered ox-ldap.properties, started."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "ox-ldap.properties").write_text(
        directory.ox_ldap_properties(
            servers=[f"127.0.0.1:{slapd.port}"], bind_dn=ROOT_DN, bind_password=ROOT_PASSWORD
        )
    )
    app = App(home, free_port(), tls, pyz)
    app.start()
    return app
