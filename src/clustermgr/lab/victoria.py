"""A VictoriaMetrics of the lab's own: Debian's ``victoria-metrics`` on a loopback port.

The tests and the benchmarks start one to exercise ``CLUSTERMGR_METRICS_URL``:
its data in a folder of its own, listening on 127.0.0.1 on a free port, up once
``/health`` answers, and stopped by its process id when the block ends.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

BINARY = "victoria-metrics"
#: Seconds it may take to answer /health after it started.
START_TIMEOUT = 30.0


@dataclass(frozen=True)
class Victoria:
    url: str
    pid: int
    data_dir: Path

    async def flush(self) -> None:
        """Make what was imported searchable now (it is within a second or so anyway)."""
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            (await client.get("/internal/force_flush")).raise_for_status()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@asynccontextmanager
async def running_victoria(
    data_dir: Path, *, retention: str = "100y", cache: bool = False, port: int | None = None
) -> AsyncIterator[Victoria]:
    """``victoria-metrics`` keeping ``data_dir`` (its log beside it); ``retention``: its
    ``-retentionPeriod``; ``cache``: keep its query cache (off by default, so points
    written into the past show at once); ``port``: a free one unless given."""
    binary = shutil.which(BINARY)
    if binary is None:
        raise RuntimeError(f"{BINARY} is not installed (scripts/setup.sh installs it)")
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    port = port or free_port()
    args = [
        binary,
        f"-storageDataPath={data_dir}",
        f"-httpListenAddr=127.0.0.1:{port}",
        f"-retentionPeriod={retention}",
        # Points up to the current second are answered (the default leaves out the last 30 s).
        "-search.latencyOffset=0s",
        "-loggerLevel=ERROR",
    ]
    if not cache:
        args.append("-search.disableCache")
    log = await asyncio.to_thread(data_dir.with_name(data_dir.name + ".log").open, "ab")
    process = await asyncio.create_subprocess_exec(
        *args, stdout=log, stderr=asyncio.subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_healthy(url, process)
        yield Victoria(url, process.pid, data_dir)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()
        log.close()


async def _wait_healthy(url: str, process: asyncio.subprocess.Process) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT
    async with httpx.AsyncClient(base_url=url, timeout=2) as client:
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"{BINARY} exited with status {process.returncode}")
            try:
                if (await client.get("/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if loop.time() > deadline:
                raise RuntimeError(f"{BINARY} did not answer /health in {START_TIMEOUT:g} s")
            await asyncio.sleep(0.1)
