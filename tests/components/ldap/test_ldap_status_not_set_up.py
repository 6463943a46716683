"""`ldap status` before replication is set up: the problem in words, exit 1, no SSH."""

from __future__ import annotations

import secrets
from pathlib import Path

from cli_runner import Cli
from clustermgr.components.ldap import status as ldap_status
from clustermgr.core.manager import Manager
from clustermgr.inventory.schemas import ServerSpec
from clustermgr.services import clusters
from clustermgr.settings import Settings
from clustermgr.topology import Role


async def add_cluster(manager: Manager) -> str:
    """Two identity servers on a closed loopback port: a status that tried SSH would
    fail at once with "connection refused" instead of the words these tests want."""
    name = f"norepl-{secrets.token_hex(3)}"
    await clusters.create_cluster(manager, name)
    async with manager.store() as inventory:
        for n in (1, 2):
            spec = ServerSpec(name, f"idp{n}.{name}.test", f"127.0.0.{n}", Role.IDENTITY, 1)
            await inventory.add_server(spec, None, [])
    return name


NOT_SET_UP = "replication is not set up on {name}: no identity node has an LDAP server id yet"


async def test_status_of_a_cluster_without_replication_names_the_problem(
    manager: Manager,
) -> None:
    name = await add_cluster(manager)
    result = await ldap_status.status(manager, name)
    assert not result.ok
    assert result.nodes == [] and result.pairs == []
    assert len(result.problems) == 1
    assert result.problems[0].startswith(NOT_SET_UP.format(name=name))
    assert f"clustermgr ldap plan {name}" in result.problems[0]


async def test_the_cli_says_it_in_words_and_exits_1(tmp_path: Path) -> None:
    data = tmp_path / "data"
    manager = await Manager.open(Settings(data_dir=data))
    try:
        name = await add_cluster(manager)
    finally:
        await manager.close()
    cli = Cli(data)
    ran = cli("ldap", "status", name)
    assert ran.code == 1, ran.stderr
    printed = ran.stdout + ran.stderr
    assert NOT_SET_UP.format(name=name) in printed
    assert "sh -c" not in printed and "ldapadd" not in printed, "no shell script"
    assert "exited with status" not in printed

    as_json = cli("ldap", "status", name, "--json")
    assert as_json.code == 1
    assert as_json.json()["problems"][0].startswith(NOT_SET_UP.format(name=name))
