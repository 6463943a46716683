"""Allow-lists for every user- or inventory-supplied value that reaches a server.

clustermgr writes such values into configuration files (``/etc/hosts``, NGINX,
stunnel, twemproxy, Redis), LDIF and commands run as root.  Each is checked
twice against the same :class:`Rule`:

* at the model boundary every front end goes through (``ServerSpec.parse``,
  ``ClusterSettings``, the load balancer's settings, each job kind's params),
  where a value off the list is refused with a message naming the field;
* by the renderer that writes it (:func:`checked`), which refuses anything that
  is not already exactly what the rule accepts: a value that bypassed the model
  (an old row, a dataclass built by hand) never reaches a file.

:data:`INPUTS` lists every such value once: what it is, its rule, where it is
accepted and where it is written.  Tests iterate it with injection payloads.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from pydantic import AfterValidator

from clustermgr import openpgp
from clustermgr.errors import InvalidInput
from clustermgr.redact import Secret

T = TypeVar("T")


@dataclass(frozen=True)
class Rule:
    """An allow-list: ``check`` returns the value in its canonical form or raises
    :class:`InvalidInput` (``allowed`` says what is accepted)."""

    name: str
    allowed: str
    check: Callable[[object], object]
    #: A value the rule accepts as it is (canonical).
    example: object
    #: Characters the rule accepts on purpose that other rules refuse (the spaces and
    #: apostrophes of a name): whatever writes such a value escapes them.
    allows: str = ""

    def pydantic(self, value: object) -> object:
        """The check as a pydantic validator (a ValueError names what is allowed).

        Not for secrets: the message shows the value.
        """
        try:
            return self.check(value)
        except InvalidInput:
            raise ValueError(f"{value!r} is not {self.allowed}") from None

    def field(self) -> AfterValidator:
        """The rule in a pydantic field: ``Annotated[str, RULE.field()]``."""
        return AfterValidator(self.pydantic)


def _refuse(rule_name: str, value: object, allowed: str) -> InvalidInput:
    return InvalidInput(f"invalid {rule_name} {value!r}", hint=f"use {allowed}")


def _text(value: object, rule_name: str, allowed: str) -> str:
    if not isinstance(value, str):
        raise _refuse(rule_name, value, allowed)
    return value


# --- host names and addresses --------------------------------------------------------

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
HOSTNAME_RULE = (
    "a DNS host name, e.g. idp1.example.org (letters, digits, hyphens; "
    "no IP address, no underscore)"
)


def validate_hostname(value: object) -> str:
    """An RFC 1123 host name, lower-cased. IP addresses are not host names."""
    text = _text(value, "hostname", HOSTNAME_RULE)
    name = text.strip(" ").lower().rstrip(".")
    labels = name.split(".")
    if (
        not name
        or len(name) > 253
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise _refuse("hostname", value, HOSTNAME_RULE)
    return name


ADDRESS_RULE = "an IP address (no zone) or a host name"


def validate_address(value: object) -> str:
    """An IPv4/IPv6 address (canonical form, no ``%zone``) or a host name."""
    text = _text(value, "address", ADDRESS_RULE).strip(" ")
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if "%" not in bare:
        try:
            return str(ipaddress.ip_address(bare))
        except ValueError:
            pass
    try:
        return validate_hostname(text)
    except InvalidInput:
        raise _refuse("address", value, ADDRESS_RULE) from None


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def host_port(address: str, port: int) -> str:
    """``address:port`` as NGINX and stunnel read it (an IPv6 address in brackets)."""
    if ":" in address:
        return f"[{address}]:{port}"
    return f"{address}:{port}"


# --- SSH -------------------------------------------------------------------------------

PORT_RULE = "a port number between 1 and 65535"


def validate_port(value: object) -> int:
    """The SSH port: an int (a string is refused, never parsed)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise InvalidInput(f"invalid SSH port {value!r}", hint=f"use {PORT_RULE}")
    return value


# --- whole numbers in a range (a setting's days, megabytes, seconds) --------------------


def range_in_words(low: int, high: int) -> str:
    """``10 to 604,800``."""
    return f"{low:,} to {high:,}"


def whole_in_range(name: str, value: object, low: int, high: int) -> int:
    """``value`` as a whole number from ``low`` to ``high`` (an int, or its digits as
    text); InvalidInput naming ``name`` and the range otherwise."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    if number is None or not low <= number <= high:
        allowed = range_in_words(low, high)
        raise InvalidInput(
            f"invalid {name}: {repr(value)[:40]} is not a whole number from {allowed}",
            hint=f"{name} is {allowed}",
        )
    return number


_USER = re.compile(r"[a-z_][a-z0-9_.-]{0,31}")
USER_RULE = "a user name: lower-case letters, digits, '_', '.' and '-' (at most 32)"


def validate_ssh_user(value: object) -> str:
    text = _text(value, "SSH user", USER_RULE)
    if not _USER.fullmatch(text) or ".." in text:
        raise _refuse("SSH user", value, USER_RULE)
    return text


# --- inventory names ------------------------------------------------------------------

_CLUSTER = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
CLUSTER_RULE = "a name of lower-case letters, digits, '-' and '_' (at most 64 characters)"


def validate_cluster_name(value: object) -> str:
    text = _text(value, "cluster name", CLUSTER_RULE)
    if not _CLUSTER.fullmatch(text):
        raise _refuse("cluster name", value, CLUSTER_RULE)
    return text


_TOKEN = re.compile(r"[A-Za-z0-9_]{1,64}")
CHOICE_RULE = "one of the listed names (letters, digits and '_')"


def validate_choice(value: object) -> str:
    """A name from a fixed set (an enum's value): the set is the allow-list, and
    each of its names is a plain token."""
    text = _text(value, "choice", CHOICE_RULE)
    if not _TOKEN.fullmatch(text):
        raise _refuse("choice", value, CHOICE_RULE)
    return text


# --- paths on a server -----------------------------------------------------------------

_PATH = re.compile(r"/[A-Za-z0-9._/-]{0,4095}")
PATH_RULE = "an absolute path of letters, digits and . _ / - (no ..)"


def validate_path(value: object) -> str:
    """A file on a server, written into configuration files and opened as root."""
    text = _text(value, "path", PATH_RULE)
    if not _PATH.fullmatch(text) or ".." in text:
        raise _refuse("path", value, PATH_RULE)
    return text


_LOCATION = re.compile(r"/|(/[A-Za-z0-9._-]+)+")
LOCATION_RULE = "a URL path: '/' then segments of letters, digits and . _ - (no ..)"


def validate_location(value: object) -> str:
    """A URL path NGINX routes (a ``location`` prefix)."""
    text = _text(value, "location", LOCATION_RULE)
    if len(text) > 256 or not _LOCATION.fullmatch(text) or ".." in text:
        raise _refuse("location", value, LOCATION_RULE)
    return text


# --- secrets the manager makes ---------------------------------------------------------

_SECRET = re.compile(r"[A-Za-z0-9_~+/=-]{1,1024}")
SECRET_RULE = "letters, digits and _ ~ + / = - (a token the manager makes)"  # noqa: S105


def validate_secret_text(value: object) -> str:
    """A password written into configuration files (redis.conf, nutcracker.yml, LDIF).

    The message never shows the value.
    """
    if not isinstance(value, str) or not _SECRET.fullmatch(value):
        raise InvalidInput("invalid secret: it holds characters a configuration file cannot carry")
    return value


# --- the Gluu Server install settings ---------------------------------------------------

_WORDS = re.compile(r"[^\W_](?:[\w .,&'-]{0,62}[^\W_.])?")
WORDS_RULE = (
    "a name of letters, digits, spaces and . , & ' - (at most 64, starting and ending "
    "with a letter or digit)"
)


def validate_words(value: object) -> str:
    """An organization, city or state: what a certificate's subject and the installer's
    properties carry."""
    text = _text(value, "name", WORDS_RULE).strip(" ")
    if not _WORDS.fullmatch(text) or "  " in text:
        raise _refuse("name", value, WORDS_RULE)
    return text


_COUNTRY = re.compile(r"[A-Z]{2}")
COUNTRY_RULE = "a two-letter country code, e.g. US"


def validate_country(value: object) -> str:
    text = _text(value, "country code", COUNTRY_RULE).strip(" ").upper()
    if not _COUNTRY.fullmatch(text):
        raise _refuse("country code", value, COUNTRY_RULE)
    return text


_MAILBOX = re.compile(r"[A-Za-z0-9._%+-]{1,64}")
EMAIL_RULE = "an email address: name@host.example (letters, digits and . _ % + - before the @)"


def validate_email(value: object) -> str:
    text = _text(value, "email address", EMAIL_RULE).strip(" ")
    name, at, host = text.rpartition("@")
    if not at or not _MAILBOX.fullmatch(name) or ".." in name:
        raise _refuse("email address", value, EMAIL_RULE)
    try:
        return f"{name}@{validate_hostname(host)}"
    except InvalidInput:
        raise _refuse("email address", value, EMAIL_RULE) from None


_VERSION = re.compile(r"(?:[0-9]{1,9}:)?[0-9][A-Za-z0-9.+~-]{0,127}")
VERSION_RULE = "a Debian package version, e.g. 4.5.0-1 (letters, digits and . + ~ - :)"


def validate_version(value: object) -> str:
    text = _text(value, "package version", VERSION_RULE)
    if not _VERSION.fullmatch(text) or ".." in text:
        raise _refuse("package version", value, VERSION_RULE)
    return text


_URL = re.compile(
    r"(https?)://([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::([1-9][0-9]{0,4}))?"
    r"((?:/[A-Za-z0-9._~-]*){0,32})"
)
URL_RULE = "an http:// or https:// URL: a host, an optional port, a path of . _ ~ - / and letters"


def validate_url(value: object) -> str:
    """A package repository's URL, written into an apt source line."""
    text = _text(value, "URL", URL_RULE)
    found = _URL.fullmatch(text)
    if found is None or ".." in found.group(4) or int(found.group(3) or 1) > 65535:
        raise _refuse("URL", value, URL_RULE)
    scheme, host, port, path = found.groups()
    try:
        address = validate_address(host)
    except InvalidInput:
        raise _refuse("URL", value, URL_RULE) from None
    shown = f"[{address}]" if ":" in address else address
    return f"{scheme}://{shown}{':' + port if port else ''}{path}"


_APT_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
APT_WORD_RULE = "an apt suite or component: letters, digits and . _ - (at most 64, no ..)"


def validate_apt_word(value: object) -> str:
    text = _text(value, "suite or component", APT_WORD_RULE)
    if not _APT_WORD.fullmatch(text) or ".." in text:
        raise _refuse("suite or component", value, APT_WORD_RULE)
    return text


_SHA256 = re.compile(r"[0-9a-f]{64}")
SHA256_RULE = "a SHA-256 digest: 64 hex digits"


def validate_sha256(value: object) -> str:
    text = _text(value, "SHA-256", SHA256_RULE).strip(" ").lower()
    if not _SHA256.fullmatch(text):
        raise _refuse("SHA-256", value, SHA256_RULE)
    return text


KEY_RULE = "an OpenPGP public key, ASCII-armored (-----BEGIN PGP PUBLIC KEY BLOCK-----) or binary"
#: A real (ed25519) public key: the rule's example, and the tests'.
EXAMPLE_KEY = """\
-----BEGIN PGP PUBLIC KEY BLOCK-----

mDMEaxVyCxYJKwYBBAHaRw8BAQdAcJpjzLLIjqeUsQZpIcY7A9eItyg+bRy7IvZD
6JEM86q0KGNsdXN0ZXJtZ3IgZXhhbXBsZSA8ZXhhbXBsZUBleGFtcGxlLm9yZz6I
kAQTFggAOBYhBGSQGul8e9PTgtv/fy6leR3b5LGGBQJrFXILAhsDBQsJCAcCBhUK
CQgLAgQWAgMBAh4BAheAAAoJEC6leR3b5LGGnzgBAPuwVM1yNUdrr+03+/UPi2nL
HmorMWH1nu+eEMfXS+QlAPsGiFYdS8RJGxgAHoo9id8SDghHVzgGiBVI16cTcPkK
Cg==
=Cucx
-----END PGP PUBLIC KEY BLOCK-----
"""


def validate_key(value: object) -> str:
    """A repository's signing key, in one canonical armored form."""
    if not isinstance(value, str | bytes):
        raise _refuse("repository key", "a non-text value", KEY_RULE)
    try:
        return openpgp.public_key(value)
    except openpgp.NotAKey as exc:
        raise InvalidInput(f"invalid repository key: {exc}", hint=f"use {KEY_RULE}") from None


# --- notification channels -------------------------------------------------------------

CHANNEL_RULE = "a channel name of lower-case letters, digits, '-' and '_' (at most 64 characters)"


def validate_channel_name(value: object) -> str:
    text = _text(value, "channel name", CHANNEL_RULE)
    if not _CLUSTER.fullmatch(text):
        raise _refuse("channel name", value, CHANNEL_RULE)
    return text


_LOGIN = re.compile(r"[A-Za-z0-9._%+@-]{1,254}")
LOGIN_RULE = "a login name: letters, digits and . _ % + @ - (at most 254 characters)"


def validate_login(value: object) -> str:
    """The user name an SMTP relay knows (often a mail address)."""
    text = _text(value, "login name", LOGIN_RULE)
    if not _LOGIN.fullmatch(text) or ".." in text:
        raise _refuse("login name", value, LOGIN_RULE)
    return text


_WEBHOOK = re.compile(
    r"(https?)://([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::([1-9][0-9]{0,4}))?"
    r"((?:/[A-Za-z0-9._~%-]*){0,32})(\?[A-Za-z0-9._~%=&-]{1,1024})?"
)
WEBHOOK_RULE = (
    "an http:// or https:// URL: a host, an optional port, a path of letters, digits and "
    ". _ ~ % - /, an optional query of those and = &"
)


def validate_webhook_url(value: object) -> str:
    """Where a webhook channel posts: the request's URL, nothing else."""
    text = _text(value, "webhook URL", WEBHOOK_RULE)
    found = _WEBHOOK.fullmatch(text)
    if found is None or ".." in text or int(found.group(3) or 1) > 65535:
        raise _refuse("webhook URL", value, WEBHOOK_RULE)
    scheme, host, port, path, query = found.groups()
    try:
        address = validate_address(host)
    except InvalidInput:
        raise _refuse("webhook URL", value, WEBHOOK_RULE) from None
    shown = f"[{address}]" if ":" in address else address
    return f"{scheme}://{shown}{':' + port if port else ''}{path}{query or ''}"


# --- the rules and the inputs ------------------------------------------------------------

HOSTNAME = Rule("hostname", HOSTNAME_RULE, validate_hostname, "idp1.example.org")
ADDRESS = Rule("address", ADDRESS_RULE, validate_address, "192.0.2.10")
PORT = Rule("SSH port", PORT_RULE, validate_port, 22)
SSH_USER = Rule("SSH user", USER_RULE, validate_ssh_user, "root")
CLUSTER_NAME = Rule("cluster name", CLUSTER_RULE, validate_cluster_name, "prod-1")
CHOICE = Rule("choice", CHOICE_RULE, validate_choice, "backend_id")
PATH = Rule("path", PATH_RULE, validate_path, "/etc/ssl/lb.crt")
LOCATION = Rule("location", LOCATION_RULE, validate_location, "/.well-known")
SECRET = Rule("secret", SECRET_RULE, validate_secret_text, "Zx8_-kq2")
WORDS = Rule("name", WORDS_RULE, validate_words, "Acme Widgets, Inc", allows=" '.")
COUNTRY = Rule("country code", COUNTRY_RULE, validate_country, "US")
EMAIL = Rule("email address", EMAIL_RULE, validate_email, "admin@example.org")
VERSION = Rule("package version", VERSION_RULE, validate_version, "4.5.0-1")
URL = Rule("URL", URL_RULE, validate_url, "https://repo.example.org/gluu/debian")
APT_WORD = Rule("suite or component", APT_WORD_RULE, validate_apt_word, "bookworm-backports")
SHA256 = Rule("SHA-256", SHA256_RULE, validate_sha256, "ab" * 32)
KEY = Rule("repository key", KEY_RULE, validate_key, EXAMPLE_KEY, allows=" \t\r\n")
CHANNEL_NAME = Rule("channel name", CHANNEL_RULE, validate_channel_name, "ops-mail")
LOGIN = Rule("login name", LOGIN_RULE, validate_login, "alerts@example.org")
WEBHOOK_URL = Rule(
    "webhook URL", WEBHOOK_RULE, validate_webhook_url, "https://hooks.example.org/services/T0?k=v"
)

RULES: tuple[Rule, ...] = (
    HOSTNAME,
    ADDRESS,
    PORT,
    SSH_USER,
    CLUSTER_NAME,
    CHOICE,
    PATH,
    LOCATION,
    SECRET,
    WORDS,
    COUNTRY,
    EMAIL,
    VERSION,
    URL,
    APT_WORD,
    SHA256,
    KEY,
    CHANNEL_NAME,
    LOGIN,
    WEBHOOK_URL,
)

#: In pydantic models: each refuses what its rule refuses.
Hostname = Annotated[str, HOSTNAME.field()]
FilePath = Annotated[str, PATH.field()]
Location = Annotated[str, LOCATION.field()]
Words = Annotated[str, WORDS.field()]
Country = Annotated[str, COUNTRY.field()]
Email = Annotated[str, EMAIL.field()]
Version = Annotated[str, VERSION.field()]
Url = Annotated[str, URL.field()]
Key = Annotated[str, KEY.field()]
AptWord = Annotated[str, APT_WORD.field()]
Sha256 = Annotated[str, SHA256.field()]
Address = Annotated[str, ADDRESS.field()]
ClusterName = Annotated[str, CLUSTER_NAME.field()]
ChannelName = Annotated[str, CHANNEL_NAME.field()]
Login = Annotated[str, LOGIN.field()]
WebhookUrl = Annotated[str, WEBHOOK_URL.field()]


@dataclass(frozen=True)
class Input:
    """A value from a user or the inventory that reaches a server."""

    what: str
    rule: Rule
    #: Where it is accepted, as ``module:Model.field`` (the model boundary).
    accepted: tuple[str, ...]
    #: Where it is written on a server.
    written: str


_SPEC = "clustermgr.inventory.schemas:ServerSpec"
_LB = "clustermgr.components.lb.settings"
_INSTALL = "clustermgr.components.install.settings:InstallSettings"
_NOTIFY = "clustermgr.notify.channels"

INPUTS: tuple[Input, ...] = (
    Input(
        "server hostname",
        HOSTNAME,
        (f"{_SPEC}.hostname",),
        "/etc/hosts; NGINX upstreams and server_name; stunnel connect/checkHost/sections; "
        "nutcracker.yml; olcServerID, olcSyncrepl, ox-ldap.properties; certificate names",
    ),
    Input(
        "server address",
        ADDRESS,
        (f"{_SPEC}.address",),
        "/etc/hosts; NGINX upstream servers; the SSH connection",
    ),
    Input("SSH port", PORT, (f"{_SPEC}.ssh_port",), "the SSH connection"),
    Input("SSH user", SSH_USER, (f"{_SPEC}.ssh_user",), "the SSH login"),
    Input("server role", CHOICE, (f"{_SPEC}.role",), "which files a server gets"),
    Input(
        "cluster name",
        CLUSTER_NAME,
        (f"{_SPEC}.cluster",),
        "the markers of the cluster's /etc/hosts block",
    ),
    Input(
        "cluster public hostname",
        HOSTNAME,
        (
            "clustermgr.inventory.schemas:ClusterSettings.public_hostname",
            "clustermgr.inventory.schemas:ClusterSettingsUpdate.public_hostname",
        ),
        "NGINX server_name and the proxy's certificate name; the identity nodes' issuer",
    ),
    Input(
        "hosts file path",
        PATH,
        ("clustermgr.inventory.schemas:ClusterSettings.hosts_file",),
        "the file read and written as root on every member",
    ),
    Input(
        "load balancer certificate and key files",
        PATH,
        (
            f"{_LB}:LbSettings.cert_file",
            f"{_LB}:LbSettings.key_file",
            f"{_LB}:LbSettingsUpdate.cert_file",
            f"{_LB}:LbSettingsUpdate.key_file",
        ),
        "NGINX ssl_certificate and ssl_certificate_key",
    ),
    Input(
        "load balancer locations",
        LOCATION,
        (f"{_LB}:LbSettings.locations", f"{_LB}:LbSettingsUpdate.locations"),
        "NGINX location blocks",
    ),
    Input(
        "load balancer upstream and certificate source",
        CHOICE,
        (
            f"{_LB}:LbSettings.certificate",
            f"{_LB}:LbSettingsUpdate.certificate",
        ),
        "NGINX proxy_pass; which certificate files NGINX reads",
    ),
    Input(
        "drained identity nodes",
        HOSTNAME,
        (f"{_LB}:LbSettings.drained",),
        "NGINX upstreams (the node marked down)",
    ),
    Input(
        "job nodes: drain, undrain, reinit (node and source), preflight hosts, uninstall",
        HOSTNAME,
        (
            "clustermgr.components.lb.jobs:NodeParams.node",
            "clustermgr.components.ldap.jobs:ReinitParams.node",
            "clustermgr.components.ldap.jobs:ReinitParams.source",
            "clustermgr.components.base.jobs:PreflightParams.hosts",
            "clustermgr.components.install.jobs:RemoveParams.node",
        ),
        "which servers a job acts on; the hosts named in its commands",
    ),
    Input(
        "cache provider",
        CHOICE,
        ("clustermgr.components.cache.jobs:CacheParams.provider",),
        "oxCacheConfiguration's cacheProviderType (LDAP)",
    ),
    Input(
        "organization, city and state",
        WORDS,
        (f"{_INSTALL}.organization", f"{_INSTALL}.city", f"{_INSTALL}.state"),
        "setup.properties (orgName, city, state): the web certificate's subject",
    ),
    Input("country", COUNTRY, (f"{_INSTALL}.country",), "setup.properties countryCode"),
    Input("admin email", EMAIL, (f"{_INSTALL}.admin_email",), "setup.properties admin_email"),
    Input(
        "Gluu package version",
        VERSION,
        (f"{_INSTALL}.version",),
        "apt-get install gluu-server=VERSION; the installed version's check",
    ),
    Input("install source", CHOICE, (f"{_INSTALL}.source",), "which steps install the package"),
    Input("repository URL", URL, (f"{_INSTALL}.repository_url",), "the apt source line"),
    Input(
        "repository suite and component",
        APT_WORD,
        (f"{_INSTALL}.repository_suite", f"{_INSTALL}.repository_component"),
        "the apt source line",
    ),
    Input(
        "repository signing key",
        KEY,
        (f"{_INSTALL}.repository_key",),
        "the source's keyring under /etc/apt/keyrings",
    ),
    Input(
        "package file digest",
        SHA256,
        (f"{_INSTALL}.package_sha256",),
        "the package file's name and check on each node",
    ),
    Input(
        "cluster secrets (Redis, replicator)",
        SECRET,
        (),
        "redis.conf requirepass, nutcracker.yml redis_auth, olcSyncrepl credentials",
    ),
    Input(
        "notification channel name",
        CHANNEL_NAME,
        (f"{_NOTIFY}:ChannelSpec.name",),
        "the channel's row; the CLI's and the API's paths",
    ),
    Input(
        "notification severity filter",
        CHOICE,
        (f"{_NOTIFY}:ChannelSpec.min_severity",),
        "which alerts a channel gets",
    ),
    Input(
        "notification cluster filter",
        CLUSTER_NAME,
        (f"{_NOTIFY}:ChannelSpec.cluster",),
        "which alerts a channel gets",
    ),
    Input(
        "SMTP relay",
        ADDRESS,
        (f"{_NOTIFY}:EmailSettings.host",),
        "the SMTP connection",
    ),
    Input(
        "SMTP CA file",
        PATH,
        (f"{_NOTIFY}:EmailSettings.ca_file",),
        "the CA file the manager trusts for the relay's STARTTLS certificate",
    ),
    Input("SMTP login", LOGIN, (f"{_NOTIFY}:EmailSettings.username",), "SMTP AUTH"),
    Input(
        "notification sender and recipients",
        EMAIL,
        (f"{_NOTIFY}:EmailSettings.sender", f"{_NOTIFY}:EmailSettings.recipients"),
        "SMTP MAIL FROM, RCPT TO and the message's From and To headers",
    ),
    Input("webhook URL", WEBHOOK_URL, (f"{_NOTIFY}:WebhookSettings.url",), "the webhook request"),
)


def checked(rule: Rule, value: T) -> T:
    """``value`` if ``rule`` accepts it exactly as it is; InvalidInput otherwise.

    Renderers call this on every value they write that came from a user or the
    inventory: the second line of defence behind the model boundary.
    """
    try:
        canonical = rule.check(value)
    except InvalidInput as exc:
        raise InvalidInput(
            f"refusing to write to a server: {exc.message}",
            hint=f"a {rule.name} must be {rule.allowed}",
        ) from None
    if canonical != value:
        shown = "a secret" if rule is SECRET else repr(value)
        raise InvalidInput(
            f"refusing to write to a server: {rule.name} {shown} is not in canonical form",
            hint=f"a {rule.name} must be {rule.allowed}",
        )
    return value


def checked_secret(secret: Secret) -> Secret:
    """``secret`` if its value can be written into a configuration file as it is."""
    checked(SECRET, secret.reveal())
    return secret
