"""The install plan: the package from the cluster's source, setup.properties, setup (pure).

Per identity node, in order:

1. the package source: a repository's signed apt source (its key the source's only
   key), or the package file copied to the node (its name carries its SHA-256);
2. ``gluu-server`` at the pinned version, installed with the node's package tool;
   with a repository, only that source's lists are refreshed first, so a node that
   reaches no other repository installs all the same;
3. the cluster files (:data:`clustermgr.topology.CLUSTER_FILES`: the web front's key
   and certificate, the identity app's keystore): a later node gets the first node's;
4. setup.properties, then setup itself, done when the properties it last applied are
   these; verified: the directory answers with ``o=gluu``, the web front on 443
   answers the identity app's health check, and discovery names the public hostname.

A step that is done is left alone: a node already running the version with these
properties is all unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from clustermgr import openpgp
from clustermgr.components.install import properties
from clustermgr.components.install.properties import SetupValues
from clustermgr.components.install.settings import PACKAGE, InstallSettings, Source
from clustermgr.plan.model import FileChange, Plan, Step
from clustermgr.remote.command import Command
from clustermgr.topology import HEALTH_CHECK_PATH, Role, cluster_file, cluster_files_of
from clustermgr.validation import APT_WORD, SHA256, URL, VERSION, checked

KEYRING = "/etc/apt/keyrings/clustermgr-gluu.gpg"
SOURCE_LIST = "/etc/apt/sources.list.d/clustermgr-gluu.list"
#: Where an offline node keeps the package file it was installed from.
PACKAGE_DIR = "/var/cache/clustermgr"
SETUP = "/opt/gluu-server/bin/setup"
SETUP_LOG = "/var/log/gluu-setup.log"
#: What setup keeps of the properties it applied last.
APPLIED = properties.PATH + ".applied"
#: The stand-in for a later node's shared files before the first node made them.
FROM_FIRST = "the first node's, read once it is installed"

_INSTALLED = (
    '[ "$(dpkg-query -W -f=\'${Version} ${db:Status-Status}\' "$1" 2>/dev/null)" = "$2 installed" ]'
)
_APT = "export DEBIAN_FRONTEND=noninteractive; "
#: Refresh the lists of the cluster's source alone: other sources may be out of reach.
_REFRESH = (
    _APT + 'apt-get update -q -o Dir::Etc::sourcelist="$1" -o Dir::Etc::sourceparts=- '
    "-o APT::Get::List-Cleanup=0"
)
_INSTALL = _APT + 'apt-get install -y -q --no-install-recommends --allow-downgrades "$@"'
#: Setup, and on failure the tail of its log after its own words.
_RUN_SETUP = (
    '"$1" "$2" || { status=$?; echo "--- the last lines of $3:" >&2; '
    'tail -n 20 "$3" >&2; exit "$status"; }'
)
_SETUP_DONE = 'cmp -s "$1" "$2"'
#: The node serves: o=gluu answers over ldapi, the identity app's health through the web
#: front on 443 (at argv[2]), and discovery names the issuer https://argv[1].
_SERVING = """\
import json, ssl, subprocess, sys, urllib.request
subprocess.run(["ldapsearch", "-Q", "-LLL", "-Y", "EXTERNAL", "-H", "ldapi:///",
                "-b", "o=gluu", "-s", "base", "dn"], check=True, capture_output=True)
context = ssl._create_unverified_context()
def get(path):
    request = urllib.request.Request("https://127.0.0.1" + path, headers={"Host": sys.argv[1]})
    with urllib.request.urlopen(request, timeout=10, context=context) as answer:
        return answer.read()
get(sys.argv[2])
issuer = json.loads(get("/.well-known/openid-configuration"))["issuer"]
if issuer != "https://" + sys.argv[1]:
    sys.exit(f"discovery names the issuer {issuer}, not https://{sys.argv[1]}")
"""


def package_file(settings: InstallSettings) -> str:
    """Where an offline node keeps the package file: named by version and digest."""
    version = checked(VERSION, settings.version)
    digest = checked(SHA256, settings.package_sha256 or "")
    return f"{PACKAGE_DIR}/{PACKAGE}_{version.replace(':', '%3a')}_{digest[:16]}.deb"


def source_line(settings: InstallSettings) -> str:
    url = checked(URL, settings.repository_url or "")
    suite = checked(APT_WORD, settings.repository_suite)
    component = checked(APT_WORD, settings.repository_component)
    return f"deb [signed-by={KEYRING}] {url} {suite} {component}\n"


def source_step(host: str, settings: InstallSettings, package: bytes | None) -> Step:
    if settings.source is Source.REPOSITORY:
        key = settings.repository_key or ""
        return Step(
            host,
            "add the Gluu Server package repository",
            f"{settings.repository_url}, signed by key {openpgp.fingerprint(key)}",
            files=(
                FileChange(KEYRING, openpgp.binary(key), mode=0o644),
                FileChange(SOURCE_LIST, source_line(settings).encode(), mode=0o644),
            ),
        )
    return Step(
        host,
        "copy the Gluu Server package file",
        f"installed from the file the manager holds (SHA-256 {settings.package_sha256})",
        files=(FileChange(package_file(settings), package or b"", mode=0o644),),
    )


def install_step(host: str, settings: InstallSettings) -> Step:
    version = checked(VERSION, settings.version)
    commands: tuple[Command, ...]
    if settings.source is Source.REPOSITORY:
        refresh = Command.script(_REFRESH, SOURCE_LIST)
        commands = (refresh, Command.script(_INSTALL, f"{PACKAGE}={version}"))
    else:
        commands = (Command.script(_INSTALL, package_file(settings)),)
    return Step(
        host,
        f"install {PACKAGE} {version}",
        "the identity node's software, the same version on every node",
        commands=commands,
        check=Command.script(_INSTALLED, PACKAGE, version),
        unchanged_reason=f"{PACKAGE} {version} is installed",
    )


def shared_step(host: str, shared: Mapping[str, bytes] | None) -> Step:
    """The first node's cluster files (every one it had); before it made them, a
    stand-in for each one every node must have."""
    if shared:
        made = [(cluster_file(path), content) for path, content in shared.items()]
    else:
        made = [(f, b"") for f in cluster_files_of(Role.IDENTITY) if f.required]
    files = tuple(
        FileChange(
            spec.path,
            content,
            mode=spec.mode,
            owner=spec.owner,
            sensitive=spec.secret,
            placeholder="" if shared else FROM_FIRST,
        )
        for spec, content in made
    )
    return Step(
        host,
        "use the first node's certificates and keys",
        "every node serves the cluster's public hostname with the same certificate and keys",
        files=files,
    )


def setup_steps(host: str, values: SetupValues) -> tuple[Step, Step]:
    text = properties.render(values).encode()
    write = Step(
        host,
        "write setup.properties",
        "one configuration for the whole cluster (the passwords masked)",
        files=(
            FileChange(properties.PATH, text, mode=0o600, sensitive=True, secrets=values.secrets),
        ),
    )
    setup = Step(
        host,
        "run the Gluu Server setup",
        f"slapd with o=gluu, the identity app and the web front for {values.hostname}",
        commands=(Command.script(_RUN_SETUP, SETUP, properties.PATH, SETUP_LOG),),
        check=Command.script(_SETUP_DONE, properties.PATH, APPLIED),
        verify=Command.of("python3", "-c", _SERVING, values.hostname, HEALTH_CHECK_PATH),
        unchanged_reason="set up with these properties",
    )
    return write, setup


def plan_install(
    cluster: str,
    nodes: Sequence[str],
    values: SetupValues,
    *,
    package: bytes | None = None,
    shared: Mapping[str, bytes] | None = None,
) -> Plan:
    """The whole install: ``nodes[0]`` is the first node (it makes the shared files);
    ``shared`` is what it made, once it did (then every node gets them, the first one
    too); ``package`` the offline package file."""
    steps: list[Step] = []
    for index, host in enumerate(nodes):
        steps.append(source_step(host, values.settings, package))
        steps.append(install_step(host, values.settings))
        if index or shared:
            steps.append(shared_step(host, shared))
        steps.extend(setup_steps(host, values))
    return Plan(f"Gluu Server install of cluster {cluster}", tuple(steps))
