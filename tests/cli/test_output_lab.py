"""Every command's human output against a lab with all components set up.

Results go to stdout, in words and tables, so ``clustermgr cache status lab |
grep down`` works; progress goes to stderr; no command prints a Python repr or
a warning (``cli_runner`` checks every run for both).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import typer

from cachelab import cache_lab, configure, wait_chain_ok
from cli_runner import Cli, Ran
from clustermgr.components import registry
from clustermgr.components.logs import apply as logs
from clustermgr.components.metrics import apply as metrics
from clustermgr.core.manager import Manager
from labfixture import Lab
from lblab import balance

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

#: The commands of a component's group that only read, with the cluster as their argument.
READS = ("status", "plan", "compare", "alerts", "history")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    async with cache_lab(tmp_path_factory.mktemp("output-lab")) as running:
        report = await configure(running)
        assert report["ok"], report
        await wait_chain_ok(running)
        balanced = await balance(running)
        assert balanced["ok"], balanced
        manager = await Manager.open(running.settings)
        try:
            exporters = await metrics.apply(manager, running.config.cluster, dry_run=False)
            followers = await logs.apply(manager, running.config.cluster, dry_run=False)
        finally:
            await manager.close()
        assert exporters.ok, exporters.as_dict()
        assert followers.ok, followers.as_dict()
        yield running


async def run(lab: Lab, *args: str) -> Ran:
    """The command as a user runs it: no ``--verbose``, so stderr holds only what it says."""
    return await asyncio.to_thread(Cli(Path(lab.settings.data_dir), verbose=False), *args)


def command_names(group: typer.Typer) -> set[str]:
    """The names of a group's commands, as typed on the command line."""
    return {
        info.name or getattr(info.callback, "__name__", "").replace("_", "-")
        for info in group.registered_commands
    }


def component_reads() -> list[tuple[str, str]]:
    """(group, command) of every read-only command of every component's group."""
    found = []
    for component in registry.COMPONENTS:
        if component.cli is not None:
            names = command_names(component.cli())
            found += [(component.name, name) for name in READS if name in names]
    return found


async def test_every_component_has_its_reads() -> None:
    names = {name for _, name in component_reads()}
    assert {"status", "plan", "alerts", "history"} <= names
    assert {g for g, _ in component_reads()} == {
        c.name for c in registry.COMPONENTS if c.cli is not None
    }


async def test_an_apply_prints_its_report_on_stdout(lab: Lab) -> None:
    ran = await run(lab, "lb", "apply", lab.config.cluster, "--yes")
    assert ran.code == 0, ran.stdout + ran.stderr
    assert lab.host("proxy1").fqdn in ran.stdout.splitlines()
    assert "unchanged" in ran.stdout
    assert "…" in ran.stderr and "…" not in ran.stdout, "progress on stderr only"


@pytest.mark.parametrize(("group", "command"), component_reads())
async def test_a_read_prints_its_result_on_stdout(lab: Lab, group: str, command: str) -> None:
    ran = await run(lab, group, command, lab.config.cluster)
    assert ran.code == 0, ran.stdout + ran.stderr
    if command in ("status", "plan", "compare"):
        assert ran.stdout.strip(), "the result is on stdout"
        assert "…" not in ran.stdout
    if command in ("status", "compare"):
        assert ran.stderr == "", "a status has no progress to show"
    json_ran = await run(lab, group, command, lab.config.cluster, "--json")
    assert json_ran.code == 0, json_ran.stderr
    json_ran.json()


async def test_cache_status_can_be_grepped(lab: Lab) -> None:
    ran = await run(lab, "cache", "status", lab.config.cluster)
    assert ran.code == 0 and ran.stderr == "", ran.stderr
    lines = ran.stdout.splitlines()
    nodes, hops, *_ = ran.stdout.split("\n\n")  # the tables, then the verdicts
    head, *rows = nodes.splitlines()
    assert head.split() == ["NODE", "CHAIN", "REDIS", "MEMORY", "KEYS", "HIT", "RATE"]
    assert hops.splitlines()[0].split() == ["CHAIN", "OF", "HOP", "ON", "STATE", "DETAIL"]
    for host in ("idp1", "idp2"):
        (row,) = [line for line in rows if line.startswith(lab.host(host).fqdn + " ")]
        _, chain, memory, unit, *_ = row.split()
        assert chain == "up" and float(memory) > 0 and unit in ("B", "KiB", "MiB", "GiB"), row
    assert [line for line in hops.splitlines() if "twemproxy" in line and "up" in line.split()]
    assert any(line.startswith("path check: ") and line.endswith("passed") for line in lines)
    assert not [line for line in lines if " down " in line or "broken" in line], ran.stdout


async def test_ldap_and_lb_status_read_in_tables(lab: Lab) -> None:
    ran = await run(lab, "ldap", "status", lab.config.cluster)
    assert ran.code == 0 and ran.stderr == "", ran.stderr
    assert ran.stdout.splitlines()[0].split() == [
        "NODE",
        "SERVER",
        "ID",
        "CONTEXTCSN",
        "REPLICATOR",
        "BINDS",
    ]
    assert "contextCSN equal on every node: yes" in ran.stdout
    ran = await run(lab, "lb", "status", lab.config.cluster)
    assert ran.code == 0 and ran.stderr == "", ran.stderr
    lines = ran.stdout.splitlines()
    issuer = f"https://{lab.config.public_hostname}"
    assert lines[0] == f"{lab.host('proxy1').fqdn} issuer {issuer}"
    rows = [line.split() for line in lines[1:]]
    assert rows[0] == ["PROXY", "BACKEND", "STATE", "HEALTH", "CHECK", "ISSUER", "ERROR"]
    assert {r[1]: (r[2], r[5]) for r in rows[1:3]} == {  # "12 ms" is two words
        lab.host("idp1").fqdn: ("up", issuer),
        lab.host("idp2").fqdn: ("up", issuer),
    }
    assert any(line.startswith("nginx: ") for line in ran.stdout.splitlines())


async def test_the_other_groups_print_results_on_stdout(lab: Lab) -> None:
    cluster = lab.config.cluster
    ran = await run(lab, "server", "check", "--cluster", cluster)
    assert ran.code == 0, ran.stderr
    assert ran.stdout.splitlines()[-1] == "preflight passed"
    ran = await run(lab, "server", "list", "--cluster", cluster)
    assert ran.code == 0 and ran.stderr == "", ran.stderr
    assert len(ran.stdout.splitlines()) == 1 + len(list(lab.config.hosts()))
    ran = await run(lab, "cluster", "plan", cluster)
    assert ran.code == 0, ran.stderr
    assert lab.host("idp1").fqdn in ran.stdout.splitlines()
    ran = await run(lab, "watch", "--cluster", cluster, "--once")
    assert ran.code == 0, ran.stderr
    watched = {line.split()[1] for line in ran.stdout.splitlines() if line.startswith(cluster)}
    assert watched == {c.name for c in registry.COMPONENTS if c.watch is not None}
