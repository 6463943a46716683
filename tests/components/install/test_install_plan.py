"""The install planner: what each node gets, from either source, secrets kept out."""

from __future__ import annotations

import hashlib

from clustermgr import openpgp
from clustermgr.components.install import plan
from clustermgr.components.install.properties import SetupValues
from clustermgr.components.install.settings import InstallSettings, Source
from clustermgr.redact import Secret
from clustermgr.validation import EXAMPLE_KEY

NODES = ["idp1.example.org", "idp2.example.org"]
PACKAGE = b"!<arch>\ndebian-binary a package"
#: The cluster files every node must have: what the first node's setup makes.
HTTPD = ("/etc/certs/httpd.key", "/etc/certs/httpd.crt")


def values(**changes: object) -> SetupValues:
    settings = InstallSettings.model_validate(
        {
            "organization": "Acme",
            "city": "Austin",
            "state": "TX",
            "country": "US",
            "admin_email": "admin@example.org",
            "version": "4.5.0-1",
            "repository_url": "http://10.0.0.1:8080/gluu",
            "repository_key": EXAMPLE_KEY,
            **changes,
        }
    )
    return SetupValues(
        "idp.example.org",
        settings,
        Secret.held("ldap-pw-for-plan-tests", label="t"),
        Secret.held("admin pw for 'plan' tests", label="t"),
    )


def test_each_node_gets_the_source_the_package_and_setup_later_ones_the_shared_files() -> None:
    steps = plan.plan_install("c", NODES, values()).steps
    titles = [(s.host, s.title) for s in steps]
    first = [t for h, t in titles if h == NODES[0]]
    second = [t for h, t in titles if h == NODES[1]]
    assert first == [
        "add the Gluu Server package repository",
        "install gluu-server 4.5.0-1",
        "write setup.properties",
        "run the Gluu Server setup",
    ]
    assert second == [*first[:2], "use the first node's certificates and keys", *first[2:]]
    shared = next(s for s in steps if s.title.startswith("use the first"))
    assert all(f.placeholder == plan.FROM_FIRST for f in shared.files), "not known yet"
    filled = plan.plan_install("c", NODES, values(), shared=dict.fromkeys(HTTPD, b"x"))
    shared = next(s for s in filled.steps if s.title.startswith("use the first"))
    assert [f.content for f in shared.files] == [b"x", b"x"] and not shared.files[0].placeholder
    assert shared.files[0].sensitive and shared.files[0].mode == 0o600


def test_the_repository_is_the_sources_only_key_and_only_its_lists_are_refreshed() -> None:
    steps = plan.plan_install("c", NODES[:1], values()).steps
    keyring, source = steps[0].files
    assert keyring.content == openpgp.binary(EXAMPLE_KEY)
    assert source.content == (
        b"deb [signed-by=/etc/apt/keyrings/clustermgr-gluu.gpg] http://10.0.0.1:8080/gluu "
        b"stable main\n"
    )
    refresh, install = (str(c) for c in steps[1].commands)
    assert "Dir::Etc::sourceparts=-" in refresh and plan.SOURCE_LIST in refresh
    assert "gluu-server=4.5.0-1" in install
    assert openpgp.fingerprint(EXAMPLE_KEY) in steps[0].reason


def test_offline_copies_the_file_named_by_its_digest_and_installs_it() -> None:
    digest = hashlib.sha256(PACKAGE).hexdigest()
    offline = values(source=Source.OFFLINE, package_sha256=digest, repository_key=None)
    steps = plan.plan_install("c", NODES[:1], offline, package=PACKAGE).steps
    (copied,) = steps[0].files
    assert copied.path == f"/var/cache/clustermgr/gluu-server_4.5.0-1_{digest[:16]}.deb"
    assert copied.content == PACKAGE
    (install,) = steps[1].commands
    assert copied.path in str(install) and "apt-get install" in str(install)


def test_no_password_reaches_a_command_and_the_properties_are_masked_in_diffs() -> None:
    v = values()
    for step in plan.plan_install("c", NODES, v).steps:
        for command in (*step.commands, step.check, step.verify):
            if command is not None:
                assert all(s.reveal() not in command.render() for s in v.secrets)
    props = next(
        f
        for s in plan.plan_install("c", NODES, v).steps
        for f in s.files
        if f.path == "/etc/gluu/conf/setup.properties"
    )
    assert props.sensitive and props.mode == 0o600 and props.secrets == v.secrets


def test_a_later_node_gets_every_cluster_file_the_first_one_had() -> None:
    """The keystore the first node had goes to every other node too; before the first
    node made them, the stand-ins are the files every node must have."""
    keystore = "/etc/certs/oxauth-keys.json"
    shared = {**dict.fromkeys(HTTPD, b"x"), keystore: b'{"keys": []}'}
    filled = plan.plan_install("c", NODES, values(), shared=shared)
    step = next(s for s in filled.steps if s.title.startswith("use the first"))
    assert [f.path for f in step.files] == [*HTTPD, keystore]
    assert [f.sensitive for f in step.files] == [True, False, True]
    assert step.files[2].mode == 0o600
    unknown = plan.plan_install("c", NODES, values()).steps
    stand_in = next(s for s in unknown if s.title.startswith("use the first"))
    assert [f.path for f in stand_in.files] == list(HTTPD)
