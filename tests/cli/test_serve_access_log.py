"""`clustermgr serve` keeps tokens in URLs (the setup link) out of its access log."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from polling import eventually
from sshd import free_port


async def test_the_setup_token_stays_out_of_the_access_log(tmp_path: Path) -> None:
    port = free_port()
    output = tmp_path / "serve.log"
    env = {
        **os.environ,
        "CLUSTERMGR_DATA_DIR": str(tmp_path / "data"),
        "CLUSTERMGR_WATCH_ENABLED": "false",
    }
    env.pop("CLUSTERMGR_DATABASE_URL", None)
    with output.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "clustermgr", "serve", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base) as http:
            await eventually(
                lambda: http.get("/login"),
                until=lambda answer: answer.status_code == 200,
                ignore=(httpx.TransportError,),
                timeout=60,
                what="`clustermgr serve` answers",
            )
            printed = re.search(r"/setup\?token=([\w-]+)", output.read_text())
            assert printed, output.read_text()
            token = printed.group(1)
            assert (await http.get("/setup", params={"token": token})).status_code == 200
            await eventually(
                lambda: "GET /setup?token=" in output.read_text(),
                timeout=10,
                what="the access log line",
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = output.read_text()
    assert text.count(token) == 1, "only the link printed for the person who started it"
    assert '"GET /setup?token=******** HTTP/1.1" 200' in text
