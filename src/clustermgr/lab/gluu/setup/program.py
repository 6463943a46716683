"""Make this node a Gluu node from checked settings: each part read first, changed only if needed.

A part already as the settings want it is left alone, so a second run with the same
properties changes nothing, and a run after a failure completes what is missing.
Passwords reach the LDAP tools on their standard input (``-y /dev/stdin``), never
on a command line or in the log; the directory's LDIFs (password hashes) live in a
private temporary folder for the length of the load.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TextIO

from clustermgr.lab.gluu import directory, node
from clustermgr.lab.gluu.oxauth.keys import (
    KeystoreError,
    keystore_text,
    new_keystore,
    read_keystore,
)
from clustermgr.lab.gluu.oxauth.service import defaults_text, init_script

from .properties import SetupProperties

#: What the package build decided, next to this module in the setup zipapp.
BUILD_FILE = "build.json"
COMMAND_TIMEOUT = 120.0
READY_TIMEOUT = 30.0
#: How often a wait asks again: each ask is a local call of a few milliseconds.
READY_POLL = 0.05
HEALTH_PATH = "/oxauth/restv1/health-check"
ADMIN_DN = f"inum={directory.ADMIN_INUM},ou=people,{directory.SUFFIX}"
SLAPD_DEFAULTS_KEPT = f"{node.SLAPD_DEFAULTS_FILE}.debian"


class SetupFailed(Exception):
    """A step failed; the message says which and why (never a secret)."""


@dataclass(frozen=True)
class Build:
    """The package build's facts the node needs: its version and the web front's TLS include."""

    version: str
    tls_include: str
    tls_include_text: str

    @classmethod
    def load(cls) -> Build:
        data = json.loads(resources.files(__package__).joinpath(BUILD_FILE).read_text())
        return cls(**data)


class Setup:
    """One run: :meth:`run` applies ``settings`` and returns what it changed."""

    def __init__(
        self, settings: SetupProperties, properties_text: bytes, build: Build, log: TextIO
    ) -> None:
        self.settings = settings
        self.properties_text = properties_text
        self.build = build
        self.log_file = log
        self.changes: list[str] = []

    # --- helpers ------------------------------------------------------------------

    def log(self, message: str) -> None:
        self.log_file.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")
        self.log_file.flush()

    def changed(self, what: str) -> None:
        self.changes.append(what)
        self.log(f"changed: {what}")

    def sh(
        self, script: str, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a shell script, arguments in $1...; its output goes to the log."""
        self.log(f"run: {shown(script, args)}")
        try:
            proc = subprocess.run(
                ["sh", "-c", script, "setup", *args],
                input=stdin if stdin is not None else "",
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise SetupFailed(f"no answer within {COMMAND_TIMEOUT:g} s from: {script}") from None
        for line in (proc.stdout + proc.stderr).splitlines():
            self.log(f"  | {line}")
        if check and proc.returncode != 0:
            tail = " ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
            command = shown(script, args)
            raise SetupFailed(f"`{command}` exited with {proc.returncode}: {tail}".rstrip(": "))
        return proc

    def write(
        self, path: str, content: str | bytes, mode: int = 0o644, *, change: bool = True
    ) -> bool:
        """Write ``path`` unless it holds ``content`` with ``mode`` already; whether it did.

        ``change``: whether writing it changes the node (else it is only logged).
        """
        data = content.encode() if isinstance(content, str) else content
        target = Path(path)
        try:
            same = target.read_bytes() == data and (target.stat().st_mode & 0o7777) == mode
        except FileNotFoundError:
            same = False
        if same:
            return False
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        except OSError as exc:
            raise SetupFailed(f"cannot write {path}: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.chmod(temp, mode)
            os.replace(temp, target)
        except OSError as exc:
            Path(temp).unlink(missing_ok=True)
            raise SetupFailed(f"cannot write {path}: {exc.strerror}") from None
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        if change:
            self.changed(f"wrote {path}")
        else:
            self.log(f"wrote {path}")
        return True

    def service(self, name: str, *, restart: bool, how: str = "restart") -> None:
        """Enable ``name`` and have it running; ``restart`` it (``how``) when it ran already."""
        if self.sh('ls /etc/rc2.d/S*"$1" >/dev/null 2>&1', name, check=False).returncode:
            self.sh(node.ENABLE_SERVICE, name)
            self.changed(f"enabled {name}")
        if self.sh('service "$1" status >/dev/null 2>&1', name, check=False).returncode:
            self.sh('service "$1" start', name)
            self.changed(f"started {name}")
        elif restart:
            self.sh('service "$1" "$2"', name, how)
            self.changed(f"{how}ed {name}")

    def wait(self, what: str, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while not ready():
            if time.monotonic() > deadline:
                raise SetupFailed(f"{what} within {READY_TIMEOUT:g} s")
            time.sleep(READY_POLL)

    # --- the parts --------------------------------------------------------------------

    def run(self) -> list[str]:
        s = self.settings
        self.log(f"gluu-server {self.build.version}: setup for {s.hostname}")
        if s.install_ldap:
            self.directory()
        if s.install_oxauth:
            self.app()
        if s.install_httpd:
            self.web_front()
        self.write(node.APPLIED_PROPERTIES, self.properties_text, 0o600, change=False)
        self.log(f"done: {len(self.changes)} change(s)")
        return self.changes

    def directory(self) -> None:
        """slapd on ldap:/// and ldapi:/// with o=gluu, the passwords the settings name."""
        defaults = Path(node.SLAPD_DEFAULTS_FILE)
        keep = defaults.exists() and not Path(SLAPD_DEFAULTS_KEPT).exists()
        if keep and defaults.read_text() != node.SLAPD_DEFAULTS:
            shutil.copy2(defaults, SLAPD_DEFAULTS_KEPT)
        restart = self.write(node.SLAPD_DEFAULTS_FILE, node.SLAPD_DEFAULTS)
        loaded = self.sh(node.DIRECTORY_LOADED, node.DB_DIR, node.SLAPD_DIR, check=False)
        if loaded.returncode != 0:
            self.load_directory()
        self.service("slapd", restart=restart)
        self.wait("slapd does not answer on ldapi:///", self.directory_answers)
        self.passwords()

    def load_directory(self) -> None:
        s = self.settings
        config = directory.slapd_config_ldif(
            root_pw_hash=directory.ssha_password(s.ldap_password),
            db_dir=node.DB_DIR,
            extra_schema=directory.gluu_schema_ldif(),
        )
        data = directory.base_data_ldif(
            admin_password_hash=directory.ssha_password(s.admin_password),
            cache_config=directory.native_cache_config(),
        )
        folder = tempfile.mkdtemp(prefix="gluu-setup-")  # 0700
        try:
            for name, text in (("config.ldif", config), ("data.ldif", data)):
                fd = os.open(f"{folder}/{name}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as out:
                    out.write(text)
            self.sh(
                node.LOAD_DIRECTORY,
                node.SLAPD_DIR,
                node.DB_DIR,
                f"{folder}/config.ldif",
                f"{folder}/data.ldif",
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        self.sh('slaptest -Q -u -F "$1"', node.SLAPD_DIR)
        self.changed("loaded o=gluu")

    def directory_answers(self) -> bool:
        search = 'ldapsearch -Q -LLL -Y EXTERNAL -H ldapi:/// -b "$1" -s base dn >/dev/null 2>&1'
        return self.sh(search, directory.SUFFIX, check=False).returncode == 0

    def binds(self, dn: str, password: str) -> bool:
        proc = self.sh(
            'ldapwhoami -x -H ldapi:/// -D "$1" -y /dev/stdin', dn, stdin=password, check=False
        )
        return proc.returncode == 0

    def passwords(self) -> None:
        """The directory manager and the admin user bind with the settings' passwords."""
        s = self.settings
        if not self.binds(directory.ROOT_DN, s.ldap_password):
            change = (
                "dn: olcDatabase={1}mdb,cn=config\nchangetype: modify\nreplace: olcRootPW\n"
                f"olcRootPW: {directory.ssha_password(s.ldap_password)}\n-\n"
            )
            self.sh("ldapmodify -Q -Y EXTERNAL -H ldapi:/// >/dev/null", stdin=change)
            self.changed("set the directory manager's password")
        if not self.binds(ADMIN_DN, s.admin_password):
            change = (
                f"dn: {ADMIN_DN}\nchangetype: modify\nreplace: userPassword\n"
                f"userPassword: {directory.ssha_password(s.admin_password)}\n-\n"
            )
            folder = tempfile.mkdtemp(prefix="gluu-setup-")
            try:
                fd = os.open(f"{folder}/change.ldif", os.O_WRONLY | os.O_CREAT, 0o600)
                with os.fdopen(fd, "w") as out:
                    out.write(change)
                self.sh(
                    'ldapmodify -x -H ldapi:/// -D "$1" -y /dev/stdin -f "$2" >/dev/null',
                    directory.ROOT_DN,
                    f"{folder}/change.ldif",
                    stdin=s.ldap_password,
                )
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            self.changed("set the admin user's password")

    def certificate(self) -> None:
        """The web certificate for the hostname, unless the node has one (a cluster's)."""
        cert, key = Path(directory.HTTPD_CERT), Path(directory.HTTPD_KEY)
        if cert.is_file() and key.is_file() and cert.stat().st_size and key.stat().st_size:
            return
        props = self.settings
        subject = node.certificate_subject(
            C=props.country_code,
            ST=props.state,
            L=props.city,
            O=props.org_name,
            emailAddress=props.admin_email,
            CN=props.hostname,
        )
        self.sh(node.SELF_SIGNED_CERT, str(cert), str(key), props.hostname, subject)
        self.changed(f"created the web certificate for {self.settings.hostname}")

    def keystore(self) -> None:
        """The token signing keys: a new keystore with one key, unless the node has one
        (a cluster's); one that is not a valid keystore stops setup, untouched."""
        path = directory.OXAUTH_KEYSTORE
        if Path(path).exists():
            try:
                read_keystore(path)
            except KeystoreError as exc:
                raise SetupFailed(f"{exc}: fix or remove it, then run setup again") from None
            return
        self.write(path, keystore_text(new_keystore()), 0o600, change=False)
        self.changed(f"created the token signing keys in {path}")

    def app(self) -> None:
        """The identity app on 127.0.0.1, reading the directory, naming the hostname."""
        properties = directory.ox_ldap_properties(
            servers=["localhost:389"],
            bind_dn=directory.ROOT_DN,
            bind_password=self.settings.ldap_password,
        )
        self.certificate()
        self.keystore()
        wrote = [
            self.write(directory.OX_LDAP_PROPERTIES, properties, 0o600),
            self.write(directory.OXAUTH_INIT_SCRIPT, init_script(app_path=node.PACKAGE_APP), 0o755),
            self.write(
                directory.OXAUTH_DEFAULTS, defaults_text(node.app_options(self.settings.hostname))
            ),
        ]
        self.service("oxauth", restart=any(wrote))
        url = f"https://127.0.0.1:{node.APP_PORT}{HEALTH_PATH}"
        self.wait(f"the identity app does not answer {url}", lambda: healthy(url))

    def web_front(self) -> None:
        """nginx on 443 in front of the app, with the node's web certificate."""
        self.certificate()
        include = Path(self.build.tls_include)
        if not (include.is_file() and include.stat().st_size):
            self.write(str(include), self.build.tls_include_text)  # clustermgr's own stays
        site = Path(node.NGINX_SITE)
        previous = site.read_bytes() if site.exists() else None
        reload = self.write(node.NGINX_SITE, node.nginx_site(self.build.tls_include))
        if os.path.lexists(node.NGINX_DEFAULT_SITE):
            os.unlink(node.NGINX_DEFAULT_SITE)
            self.changed(f"removed {node.NGINX_DEFAULT_SITE}")
            reload = True
        try:
            self.sh("nginx -t -q")
        except SetupFailed:
            if reload:  # the site we wrote is what nginx refuses: put the old one back
                if previous is None:
                    site.unlink(missing_ok=True)
                else:
                    site.write_bytes(previous)
            raise
        self.service("nginx", restart=reload, how="reload")
        if self.settings.install_oxauth:
            url = f"https://127.0.0.1{HEALTH_PATH}"
            self.wait(f"the web front does not answer {url}", lambda: healthy(url))
        else:
            self.wait("nothing listens on port 443", lambda: port_open(443))


def shown(script: str, args: tuple[str, ...]) -> str:
    """A script's first line with its arguments in place, for the log and errors.

    Arguments are names and paths, never secrets: those go on standard input.
    """
    line = script.strip().splitlines()[0]
    for number in range(len(args), 0, -1):
        value = args[number - 1]
        line = line.replace(f'"${number}"', value).replace(f"${number}", value)
    return line


def healthy(url: str) -> bool:
    """Whether ``url`` answers 200 (the node's own certificate is not checked)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, timeout=3, context=context) as answer:  # noqa: S310
            return bool(answer.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False
