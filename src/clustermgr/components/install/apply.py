"""Plan and apply the Gluu Server install, and remove it from a node.

The first identity node is installed alone: its setup makes the certificates and
keys every node shares, which are read from it and sealed in the inventory.  Then
every other node is installed in parallel with them.  Once the shared files are
sealed, every node (the first one again, after it was removed) gets them.

A cluster without install settings has Gluu Server installed outside clustermgr: its
plan changes nothing, and fails on a node that answers without Gluu Server (a bare
server), saying that the install settings are missing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from clustermgr.audit import service as audit
from clustermgr.components.install import plan as install_plan
from clustermgr.components.install import properties
from clustermgr.components.install import store as install_store
from clustermgr.components.install.settings import PACKAGE, Source
from clustermgr.core.access import HostAccess, open_access
from clustermgr.core.manager import Manager
from clustermgr.errors import ClustermgrError, InvalidInput
from clustermgr.inventory.schemas import nodes as set_up
from clustermgr.plan.events import Emit, Event, EventKind, ignore
from clustermgr.plan.executor import Executor
from clustermgr.plan.model import ApplyReport, Outcome, Plan, Step, StepResult
from clustermgr.remote.command import Command
from clustermgr.remote.pool import run_on_hosts
from clustermgr.remote.remembering import read
from clustermgr.services import clusterfiles
from clustermgr.topology import OX_LDAP_PROPERTIES, Role

NOT_INSTALLED = (
    "Gluu Server is not installed here and the cluster has no install settings: fill them "
    "in (the cluster's Gluu Server install page, or `clustermgr install settings`)"
)
_PURGE = (
    "export DEBIAN_FRONTEND=noninteractive; "
    'apt-get purge -y -q "$1" && rm -f "$2" "$3" && rm -rf "$4"'
)
_ABSENT = (
    '[ "$(dpkg-query -W -f=\'${db:Status-Status}\' "$1" 2>/dev/null)" != installed ] '
    '&& [ ! -e "$2" ]'
)


async def apply(
    manager: Manager,
    cluster_name: str,
    *,
    dry_run: bool,
    actor: str = "system",
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
) -> ApplyReport:
    """Plan (``dry_run``) or apply the install; an apply writes one audit entry."""
    work = _plan_or_apply(manager, cluster_name, dry_run=dry_run, emit=emit, cancelled=cancelled)
    return await audit.audited_run(
        manager, work, actor=actor, action="install.apply", target=cluster_name, dry_run=dry_run
    )


async def _plan_or_apply(
    manager: Manager,
    cluster_name: str,
    *,
    dry_run: bool,
    emit: Emit,
    cancelled: Callable[[], bool],
) -> ApplyReport:
    title = f"Gluu Server install of cluster {cluster_name}"
    async with manager.store() as store:
        cluster = await store.cluster(cluster_name)
        nodes = [s.hostname for s in set_up(cluster.servers, Role.IDENTITY)]
        if install_store.settings_of(cluster) is None:
            return await _installed_elsewhere(manager, cluster_name, nodes, title, dry_run, emit)
        values = await install_store.setup_values(store, cluster)
        shared = await install_store.shared_files(store, cluster)
    if not nodes:
        raise InvalidInput(f"cluster {cluster_name!r} has no identity servers to install")
    digest = values.settings.package_sha256
    package = None
    if values.settings.source is Source.OFFLINE and digest is not None:
        package = install_store.package(manager, digest)
    async with await open_access(manager, cluster_name, nodes) as access:
        executor = Executor(access.connection, emit, cancelled=cancelled)

        def planned(hosts: list[str], made: dict[str, bytes] | None) -> Plan:
            return install_plan.plan_install(
                cluster_name, hosts, values, package=package, shared=made
            )

        if dry_run or shared is not None:
            return await executor.apply(planned(nodes, shared), dry_run=dry_run)
        first = await executor.apply(planned(nodes[:1], None))
        if not first.ok:
            return _merged(title, [first], skipped=nodes[1:])
        try:
            made = await _read_shared(access, nodes[0])
        except ClustermgrError as exc:
            failed = _failed(nodes[0], "read the certificates and keys to share", exc.message)
            return _merged(title, [first, failed], skipped=nodes[1:])
        async with manager.store() as store:
            await install_store.keep_shared_files(store, await store.cluster(cluster_name), made)
        rest = await executor.apply(planned(nodes, made)) if nodes[1:] else None
    return _merged(title, [first] + ([_without(rest, nodes[0])] if rest else []))


async def _installed_elsewhere(
    manager: Manager, cluster: str, nodes: list[str], title: str, dry_run: bool, emit: Emit
) -> ApplyReport:
    """Without install settings, Gluu Server must be on the nodes already: a node that
    answers without it fails, saying what to do; one that does not answer is left to
    the stages after (they report it)."""
    async with await open_access(manager, cluster, nodes) as access:

        async def has_gluu(host: str) -> bool:
            conn = await access.connection(host)
            return (await read(conn, Command.of("test", "-e", OX_LDAP_PROPERTIES))).ok

        found = await run_on_hosts(nodes, has_gluu, limit=manager.settings.parallel_hosts)
    results = {
        host: [
            StepResult(
                f"{host}:install", host, "install Gluu Server", Outcome.FAILED, NOT_INSTALLED
            )
        ]
        for host, there in found.succeeded.items()
        if not there
    }
    said = "Gluu Server is missing on some nodes" if results else "installed outside clustermgr"
    emit(Event(EventKind.PLAN_FINISHED, f"{title}: no install settings; {said}"))
    return ApplyReport(title, dry_run, results)


async def _read_shared(access: HostAccess, host: str) -> dict[str, bytes]:
    # The install writes the cluster files where its setup makes them: outside any chroot.
    return await clusterfiles.read_from(await access.connection(host), host, None)


def _without(report: ApplyReport, host: str) -> ApplyReport:
    """``report`` without the first node's results (it was installed already)."""
    return ApplyReport(
        report.plan, report.dry_run, {h: r for h, r in report.results.items() if h != host}
    )


def _failed(host: str, title: str, reason: str) -> ApplyReport:
    row = StepResult(f"{host}:share", host, title, Outcome.FAILED, reason)
    return ApplyReport(title, False, {host: [row]})


def _merged(title: str, reports: list[ApplyReport], *, skipped: Sequence[str] = ()) -> ApplyReport:
    done = ApplyReport.merged(title, reports)
    for host in skipped:
        done.results[host] = [
            StepResult(
                f"{host}:install",
                host,
                "install Gluu Server",
                Outcome.SKIPPED,
                "the first node's install failed: it makes what every node shares",
            )
        ]
    return done


def remove_plan(cluster: str, node: str) -> Plan:
    """Stop Gluu Server on ``node`` and remove the package and its data."""
    step = Step(
        node,
        f"remove {PACKAGE} and its data",
        "the node goes back to bare: its directory, identity app and web front are gone",
        commands=(
            Command.script(
                _PURGE,
                PACKAGE,
                properties.PATH,
                install_plan.APPLIED,
                install_plan.PACKAGE_DIR,
            ),
        ),
        check=Command.script(_ABSENT, PACKAGE, properties.PATH),
        unchanged_reason=f"{PACKAGE} is not installed",
    )
    return Plan(f"remove Gluu Server from {node}", (step,))


async def remove(
    manager: Manager,
    cluster_name: str,
    node: str,
    *,
    dry_run: bool = False,
    actor: str = "system",
    emit: Emit = ignore,
    cancelled: Callable[[], bool] = lambda: False,
) -> ApplyReport:
    """Uninstall Gluu Server from identity node ``node``; it stays in the inventory."""

    async def work() -> ApplyReport:
        async with manager.store() as store:
            cluster = await store.cluster(cluster_name)
            identity = [s.hostname for s in cluster.servers if Role(s.role) is Role.IDENTITY]
        if node not in identity:
            raise InvalidInput(f"{node!r} is not an identity server of {cluster_name!r}")
        async with await open_access(manager, cluster_name, [node]) as access:
            executor = Executor(access.connection, emit, cancelled=cancelled)
            return await executor.apply(remove_plan(cluster_name, node), dry_run=dry_run)

    return await audit.audited_run(
        manager, work(), actor=actor, action="install.remove", target=node, dry_run=dry_run
    )
