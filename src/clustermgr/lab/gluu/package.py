"""The lab's ``gluu-server`` Debian package: the identity app and its setup program.

:func:`build_deb` stages the package and builds it with ``dpkg-deb --build``:

- ``/opt/gluu-server/lib/oxauth.pyz``: the identity app (:mod:`.bundle`);
- ``/opt/gluu-server/bin/setup``: the setup program (:mod:`.setup`), a zipapp run
  as ``/opt/gluu-server/bin/setup /etc/gluu/conf/setup.properties``;
- maintainer scripts: an upgrade restarts a running app; ``remove`` stops it;
  ``purge`` stops and disables the services, and removes what setup made (o=gluu's
  database, ``/etc/gluu``, the certificates, the app's and web front's files),
  putting back Debian's slapd configuration.

The build is deterministic: the same sources give the same bytes.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

import clustermgr
from clustermgr.lab.gluu import bundle, directory, node, oxauth
from clustermgr.lab.gluu import setup as setup_package
from clustermgr.pki.nodeweb import NGINX_TLS_INCLUDE, nginx_tls_include

PACKAGE_NAME = "gluu-server"
GLUU_VERSION = "4.5.0-lab1"
DEPENDS = (
    "python3 (>= 3.11)",
    "python3-cryptography",
    "slapd",
    "ldap-utils",
    "nginx",
    "openssl",
    "init-system-helpers",
)
#: 2024-01-01: every file's time in the package.
SOURCE_DATE_EPOCH = 1704067200
SETUP_SHEBANG = b"#!/usr/bin/python3 -I\n"
SETUP_MAIN = '''\
"""The gluu-server setup program: ``setup /etc/gluu/conf/setup.properties``."""

from clustermgr.lab.gluu.setup.cli import main

raise SystemExit(main())
'''

CONTROL = f"""\
Package: {PACKAGE_NAME}
Version: {GLUU_VERSION}
Architecture: all
Maintainer: clustermgr lab <lab@clustermgr.invalid>
Installed-Size: {{size}}
Depends: {", ".join(DEPENDS)}
Section: net
Priority: optional
Description: Gluu Server (clustermgr lab stand-in)
 The stand-in identity app of clustermgr's lab, served behind nginx on 443,
 with its OpenLDAP directory (o=gluu). Set a node up with:
 {node.SETUP_PROGRAM} {node.SETUP_PROPERTIES}
"""

POSTINST = """\
#!/bin/sh
set -e
# An upgrade brings a new app: a running one restarts on it.
if [ "$1" = configure ] && [ -x /etc/init.d/oxauth ] && service oxauth status >/dev/null 2>&1
then
    service oxauth restart >/dev/null 2>&1 || true
fi
exit 0
"""

PRERM = """\
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -x /etc/init.d/oxauth ]; then
    service oxauth stop >/dev/null 2>&1 || true
fi
exit 0
"""

_POSTRM = """\
#!/bin/sh
set -e
[ "$1" = purge ] || exit 0
for name in oxauth nginx slapd; do
    if [ -x "/etc/init.d/$name" ]; then
        service "$name" stop >/dev/null 2>&1 || true
        update-rc.d "$name" disable >/dev/null 2>&1 || true
    fi
done
rm -f /etc/init.d/oxauth {app_defaults}
update-rc.d oxauth remove >/dev/null 2>&1 || true
rm -rf {db_dir}
if [ -d {slapd_dir}.debian ]; then rm -rf {slapd_dir}; mv {slapd_dir}.debian {slapd_dir}; fi
if [ -f {slapd_defaults}.debian ]; then mv {slapd_defaults}.debian {slapd_defaults}; fi
rm -f {nginx_site} {tls_include}
rmdir --ignore-fail-on-non-empty "$(dirname {tls_include})" 2>/dev/null || true
if [ -e /etc/nginx/sites-available/default ] && [ ! -e {nginx_default} ]; then
    ln -s ../sites-available/default {nginx_default}
fi
rm -rf {gluu_etc} {certs} {app_home} {install_dir} {setup_log}
exit 0
"""


def postrm() -> str:
    """The ``postrm`` script: on ``purge``, the node as it was before setup."""
    paths = {
        "app_defaults": directory.OXAUTH_DEFAULTS,
        "db_dir": node.DB_DIR,
        "slapd_dir": node.SLAPD_DIR,
        "slapd_defaults": node.SLAPD_DEFAULTS_FILE,
        "nginx_site": node.NGINX_SITE,
        "nginx_default": node.NGINX_DEFAULT_SITE,
        "tls_include": NGINX_TLS_INCLUDE,
        "gluu_etc": node.GLUU_ETC,
        "certs": node.CERTS_DIR,
        "app_home": node.APP_HOME,
        "install_dir": node.INSTALL_DIR,
        "setup_log": node.SETUP_LOG,
    }
    return _POSTRM.format(**{k: shlex.quote(v) for k, v in paths.items()})


def deb_filename() -> str:
    return f"{PACKAGE_NAME}_{GLUU_VERSION}_all.deb"


def _package_files(package: str, suffixes: tuple[str, ...] = (".py",)) -> dict[str, bytes]:
    """A package's files (``suffixes`` only) under their archive names (``a/b/c.py``)."""
    root = resources.files(package)
    prefix = package.replace(".", "/")
    return {
        f"{prefix}/{item.name}": item.read_bytes()
        for item in root.iterdir()
        if item.is_file() and item.name.endswith(suffixes)
    }


def build_facts() -> dict[str, str]:
    """What the setup program reads from the build (``setup/build.json``)."""
    return {
        "version": GLUU_VERSION,
        "tls_include": NGINX_TLS_INCLUDE,
        "tls_include_text": nginx_tls_include(directory.HTTPD_CERT, directory.HTTPD_KEY),
    }


def setup_zipapp() -> bytes:
    """The setup program: the setup package and the node modules it imports, as a zipapp."""
    gluu = "clustermgr/lab/gluu"
    entries = {
        "clustermgr/__init__.py": resources.files(clustermgr).joinpath("__init__.py").read_bytes(),
        "clustermgr/lab/__init__.py": resources.files("clustermgr.lab")
        .joinpath("__init__.py")
        .read_bytes(),
        **{
            name: data
            for name, data in _package_files("clustermgr.lab.gluu", (".py", ".ldif")).items()
            if name.rsplit("/", 1)[1] in ("__init__.py", "directory.py", "node.py", "schema.ldif")
        },
        **_package_files(oxauth.__name__),
        **_package_files(setup_package.__name__),
        f"{gluu}/setup/build.json": json.dumps(build_facts(), indent=2).encode(),
        "__main__.py": SETUP_MAIN.encode(),
    }
    return bundle.zipapp(entries, SETUP_SHEBANG)


def _stage(root: Path) -> None:
    files = {
        node.SETUP_PROGRAM: (setup_zipapp(), 0o755),
        node.PACKAGE_APP: (bundle.oxauth_zipapp(), 0o644),
        "/DEBIAN/postinst": (POSTINST.encode(), 0o755),
        "/DEBIAN/prerm": (PRERM.encode(), 0o755),
        "/DEBIAN/postrm": (postrm().encode(), 0o755),
    }
    for path, (data, mode) in files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(mode)
    size = sum(len(data) for path, (data, _) in files.items() if not path.startswith("/DEBIAN"))
    (root / "DEBIAN" / "control").write_text(CONTROL.format(size=(size + 1023) // 1024))
    for folder, dirs, names in os.walk(root):
        for name in dirs:
            (Path(folder) / name).chmod(0o755)
        for name in [*dirs, *names]:
            os.utime(Path(folder) / name, (SOURCE_DATE_EPOCH, SOURCE_DATE_EPOCH))


def build_deb(out_dir: Path) -> Path:
    """Build ``gluu-server_<version>_all.deb`` into ``out_dir``; its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / deb_filename()
    with tempfile.TemporaryDirectory(prefix="gluu-deb-") as temp:
        root = Path(temp) / "root"
        root.mkdir(mode=0o755)
        _stage(root)
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(SOURCE_DATE_EPOCH)}
        proc = subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), f"{target}.new"],
            capture_output=True,
            text=True,
            env=env,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"dpkg-deb could not build {target.name}: {proc.stderr.strip()}")
    os.replace(f"{target}.new", target)
    return target
