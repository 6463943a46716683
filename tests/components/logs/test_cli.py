"""``clustermgr logs search`` and ``clustermgr logs tail``, run as a user runs them, over
records put in through the store's ingest."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli_runner import Cli
from clustermgr.components.logs.cli import full_query, line, visible
from clustermgr.core.manager import Manager
from clustermgr.errors import InvalidInput
from clustermgr.logstore.records import LogRecord, ResumePoint, StoredRecord
from clustermgr.logstore.store import log_store
from clustermgr.settings import Settings
from logsamples import SAMPLES, START, sample_records

pytestmark = pytest.mark.integration

SPAN = ("--since", "2026-12-06T09:00Z", "--until", "2026-12-06T11:00Z")


async def ingest(data_dir: Path, start: datetime = START) -> None:
    manager = await Manager.open(Settings(data_dir=data_dir))
    try:
        store = log_store(manager)
        for record in sample_records(start):
            await store.ingest("t", record.host, record.source, [record], ResumePoint())
    finally:
        await manager.close()


def test_options_become_filters_checked_like_the_query() -> None:
    assert full_query("refused", ["idp1", "idp2"], ["syslog"], ">=warning") == (
        "refused host:idp1 host:idp2 source:syslog level:>=warning"
    )
    assert full_query("", [], [], None) == ""
    with pytest.raises(InvalidInput, match="--host"):
        full_query("", ["idp 1"], [], None)
    with pytest.raises(InvalidInput, match="--level"):
        full_query("", [], [], '"x')


def test_control_characters_show_escaped_not_acted_on() -> None:
    said = "a\x1b[31mred\x1b]0;title\x07\r\x9b end\tand\nnext"
    assert visible(said) == "a\\x1b[31mred\\x1b]0;title\\x07\\x0d\\x9b end\tand\nnext"
    record = LogRecord(START, "idp1", "syslog", None, "clear \x1b[2J screen")
    shown = line(StoredRecord(1, record), ["screen"])
    assert "\x1b" not in shown and "\\x1b[2J" in shown.replace("\\[", "[")


async def test_search_prints_lines_oldest_first_and_json(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data")
    assert cli("cluster", "create", "t").code == 0
    await ingest(tmp_path / "data")
    ran = cli("logs", "search", "t", "refused", *SPAN)
    assert ran.code == 0, ran.stderr
    assert ran.stdout.splitlines() == [
        "2026-12-06 10:00:01 idp1 syslog error " + SAMPLES[1][3],
        "2026-12-06 10:00:09 idp2 syslog warning " + SAMPLES[9][3],
    ]
    assert "2 records match" in ran.stderr and "searching t from 2026-12-06 09:00:00" in ran.stderr
    trace = cli("logs", "search", "t", "--host", "idp1", "--level", "error", "java", *SPAN)
    lines = trace.stdout.splitlines()
    assert lines[0].startswith("2026-12-06 10:00:07 idp1 oxauth error 2026-12-06 10:00:03,120")
    assert lines[1] == "  java.net.SocketTimeoutException: Read timed out"
    few = cli("logs", "search", "t", "--limit", "2", *SPAN)
    assert [line.split()[2] for line in few.stdout.splitlines()] == ["idp2", "idp2"]
    assert "10 records match (the newest 2 shown" in few.stderr
    data = cli("logs", "search", "t", "status:5xx", "--source", "nginx-access", *SPAN, "--json")
    assert data.code == 0, data.stderr
    body = data.json()
    assert body["total"] == 1 and body["next"] is None and body["terms"] == []
    [hit] = body["hits"]
    assert hit["fields"]["status"] == 502 and hit["at"] == "2026-12-06T10:00:05Z"
    # Highlighted on a terminal (rich's FORCE_COLOR stands for one), plain text otherwise.
    colour = cli("logs", "search", "t", "UNBIND", *SPAN, FORCE_COLOR="1")
    assert "\x1b[" in colour.stdout and "\x1b[" not in ran.stdout
    hit_at = colour.stdout.index("UNBIND")
    assert colour.stdout[:hit_at].endswith("m")  # a style starts right before the hit
    for args, said in [
        (("t", '"open'), "quote"),
        (("t", "--level", "loud"), "unknown level"),
        (("t", "--since", "soon"), "invalid since"),
        (("nowhere",), "nowhere"),
    ]:
        bad = cli("logs", "search", *args)
        assert bad.code != 0 and said in bad.stderr, bad.stderr
        assert bad.stdout == ""
    refused = cli("logs", "search", "t", "colour:red", "--json")
    assert refused.code == 2 and refused.json()["error"] == "invalid_input"


async def test_tail_prints_new_records_until_interrupted(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data")
    assert cli("cluster", "create", "t").code == 0
    await ingest(tmp_path / "data")  # old: not shown
    proc = subprocess.Popen(
        [sys.executable, "-m", "clustermgr", "logs", "tail", "t", "refused", "--json"],
        env=cli.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None and proc.stdout is not None
        said = await asyncio.wait_for(asyncio.to_thread(proc.stderr.readline), 60)
        assert "following t's logs" in said
        await ingest(tmp_path / "data", datetime.now(UTC))
        lines = [
            await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 30) for _ in range(2)
        ]
        got = [json.loads(text) for text in lines]
        assert [(r["host"], r["level"]) for r in got] == [("idp1", "error"), ("idp2", "warning")]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert "stopped" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
