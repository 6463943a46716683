"""The oxAuth stand-in as one file: a zipapp to copy to a lab host.

Lab hosts run the stand-in with Debian's ``/usr/bin/python3`` and no packages, so
the lab ships :mod:`clustermgr.lab.gluu.oxauth` as a single ``oxauth.pyz``
(installed at ``OXAUTH_APP``, run as ``python3 -I oxauth.pyz``): the package's
modules under ``oxauth/`` plus a root ``__main__.py`` that calls its ``main``.
The package imports itself only relatively, so it works under that name.

The archive is built in memory from the installed package's files and is
deterministic (fixed timestamps and modes, sorted entries), so the same code
gives the same bytes: a host whose file matches needs no new copy.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from importlib import resources

from clustermgr.lab.gluu import oxauth

#: The package's name inside the archive.
ARCHIVE_PACKAGE = "oxauth"
SHEBANG = b"#!/usr/bin/python3\n"
ROOT_MAIN = f'''\
"""The clustermgr lab's oxAuth stand-in, bundled: ``python3 -I oxauth.pyz --help``."""

from {ARCHIVE_PACKAGE}.cli import main

raise SystemExit(main())
'''
#: 1980-01-01, the earliest time a zip entry can hold.
_EPOCH = (1980, 1, 1, 0, 0, 0)


def package_sources() -> dict[str, bytes]:
    """The package's modules: file name -> content, as installed (``.py`` files only)."""
    root = resources.files(oxauth)
    return {
        item.name: item.read_bytes()
        for item in root.iterdir()
        if item.is_file() and item.name.endswith(".py")
    }


def oxauth_zipapp() -> bytes:
    """An executable zipapp of the stand-in (shebang line, then the zip archive)."""
    entries = {f"{ARCHIVE_PACKAGE}/{name}": data for name, data in package_sources().items()}
    entries["__main__.py"] = ROOT_MAIN.encode()
    return zipapp(entries)


def zipapp(entries: Mapping[str, bytes], shebang: bytes = SHEBANG) -> bytes:
    """A deterministic executable zipapp of ``entries`` (archive name -> content)."""
    buffer = io.BytesIO()
    buffer.write(shebang)  # before the archive, as zipapp does: offsets stay absolute
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            archive.writestr(info, entries[name], compresslevel=9)
    return buffer.getvalue()
