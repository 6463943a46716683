"""Free disk space and memory, read before installing anything large.

``df -P`` (POSIX format) keeps each filesystem on one line whatever the length
of its device name, and ``-B1`` prints bytes, so no unit suffix is guessed.
``total_bytes`` is the filesystem size; on ext4 the space reserved for root is
in neither "used" nor "available", so ``available_bytes`` is the figure that
matters to an unprivileged install.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial

from clustermgr.facts.base import Fact, unusable
from clustermgr.remote.command import Command

# Filesystem, size, used, available, capacity ("-" when size is 0), mount point.
# Matched from the numbers so a device name with spaces cannot shift columns.
_DF_LINE = re.compile(
    r"^(?P<fs>.*?)\s+(?P<total>\d+)\s+\d+\s+(?P<avail>\d+)\s+(?:\d+%|-)\s+(?P<mount>/.*)$"
)
_MEMINFO_LINE = re.compile(r"^(?P<key>[\w()]+):\s+(?P<value>\d+)(?:\s+(?P<unit>kB))?\s*$")


@dataclass(frozen=True)
class DiskSpace:
    #: The path that was asked about.
    path: str
    total_bytes: int
    available_bytes: int
    #: Where the filesystem holding ``path`` is mounted.
    mount_point: str


@dataclass(frozen=True)
class Memory:
    total_bytes: int
    available_bytes: int


def parse_df(stdout: str, path: str = "/") -> DiskSpace:
    for line in stdout.splitlines():
        match = _DF_LINE.match(line.strip())
        if match is not None:
            return DiskSpace(path, int(match["total"]), int(match["avail"]), match["mount"])
    raise unusable("disk_space", stdout, "no filesystem line")


def disk_space_fact(path: str = "/") -> Fact[DiskSpace]:
    """Space on the filesystem that holds ``path`` (which must exist)."""
    return Fact(
        name="disk_space",
        command=Command.of("df", "-P", "-B1", "--", path),
        parse=partial(parse_df, path=path),
    )


def parse_meminfo(stdout: str) -> Memory:
    kib: dict[str, int] = {}
    for line in stdout.splitlines():
        match = _MEMINFO_LINE.match(line.strip())
        if match is not None and match["unit"]:
            kib[match["key"]] = int(match["value"])
    if "MemTotal" not in kib:
        raise unusable("meminfo", stdout, "no MemTotal line")
    available = kib.get("MemAvailable")
    if available is None:
        # Kernels before 3.14 lack MemAvailable; this is the estimate they suggest.
        available = kib.get("MemFree", 0) + kib.get("Buffers", 0) + kib.get("Cached", 0)
    return Memory(kib["MemTotal"] * 1024, available * 1024)


MEMINFO: Fact[Memory] = Fact(
    name="meminfo",
    command=Command.of("cat", "/proc/meminfo"),
    parse=parse_meminfo,
)
