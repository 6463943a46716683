"""``clustermgr install``: Gluu Server on the identity nodes, one configuration for all."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from clustermgr.cli.options import Json, Profile, Yes
from clustermgr.cli.output import confirm_or_exit, emit_json, print_event, run_async, show
from clustermgr.cli.reports import finish_report
from clustermgr.cli.session import cli_actor, manager
from clustermgr.components.install import apply as install
from clustermgr.components.install import properties
from clustermgr.components.install import store as install_store
from clustermgr.components.install.settings import Source
from clustermgr.errors import InvalidInput
from clustermgr.plan.events import ignore
from clustermgr.plan.model import ApplyReport
from clustermgr.redact import Secret

app = typer.Typer(no_args_is_help=True)

Text = Annotated[str, typer.Option()]


@app.command()
@run_async()
async def plan(cluster: str, as_json: Json = False, profile: Profile = False) -> None:
    """Show what installing Gluu Server would change on each identity node."""
    async with manager() as mgr:
        emit = ignore if as_json else print_event
        report = await install.apply(mgr, cluster, dry_run=True, emit=emit)
    _finish(cluster, report, as_json, profile)


@app.command()
@run_async()
async def apply(
    cluster: str, yes: Yes = False, as_json: Json = False, profile: Profile = False
) -> None:
    """Install Gluu Server: the first node, then every other with its certificates."""
    confirm_or_exit(yes, as_json, "Install Gluu Server on the identity nodes?")
    async with manager() as mgr:
        emit = ignore if as_json else print_event
        report = await install.apply(mgr, cluster, dry_run=False, actor=cli_actor(), emit=emit)
    _finish(cluster, report, as_json, profile)


@app.command()
@run_async()
async def remove(cluster: str, node: str, yes: Yes = False, as_json: Json = False) -> None:
    """Uninstall Gluu Server from NODE: its directory data, identity app and web front
    are lost; the server stays in the inventory, bare."""
    confirm_or_exit(
        yes,
        as_json,
        f"Remove Gluu Server from {node}? Its directory (o=gluu) and configuration are lost.",
    )
    async with manager() as mgr:
        emit = ignore if as_json else print_event
        report = await install.remove(mgr, cluster, node, actor=cli_actor(), emit=emit)
    finish_report(report, as_json)


@app.command()
@run_async()
async def settings(
    cluster: str,
    organization: Text,
    city: Text,
    state: Text,
    country: Text,
    admin_email: Text,
    version: Annotated[str, typer.Option(help="The gluu-server package version to install.")],
    repository_url: Annotated[str | None, typer.Option(help="The apt repository.")] = None,
    repository_key: Annotated[
        Path | None, typer.Option(help="The repository's signing key (a file).")
    ] = None,
    suite: str = "stable",
    component: str = "main",
    package: Annotated[
        Path | None, typer.Option(help="A package file instead of a repository (offline).")
    ] = None,
    admin_password_env: Annotated[
        str | None,
        typer.Option(help="Read the Gluu admin's password from this environment variable."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Set the cluster's install settings (the admin's password is asked for, or read
    from --admin-password-env)."""
    if (package is None) == (repository_url is None):
        raise InvalidInput("give either --repository-url and --repository-key, or --package")
    password = _password(admin_password_env, as_json)
    async with manager() as mgr:
        fields: dict[str, object] = {
            "organization": organization,
            "city": city,
            "state": state,
            "country": country,
            "admin_email": admin_email,
            "version": version,
        }
        if package is not None:
            fields |= {"source": Source.OFFLINE.value}
            fields["package_sha256"] = install_store.keep_package(mgr, _read(package))
        else:
            fields |= {
                "source": Source.REPOSITORY.value,
                "repository_url": repository_url,
                "repository_suite": suite,
                "repository_component": component,
                "repository_key": _read(repository_key).decode("ascii", "replace")
                if repository_key
                else None,
            }
        saved = await install_store.change(
            mgr, cluster, fields, admin_password=password, actor=cli_actor()
        )
    if as_json:
        emit_json(saved.model_dump(mode="json"))
    else:
        show(f"install settings of {cluster} saved: Gluu Server {saved.version} ({saved.source})")


@app.command("properties")
@run_async()
async def show_properties(cluster: str) -> None:
    """Show setup.properties as every node gets it, the passwords masked."""
    async with manager() as mgr, mgr.store() as store:
        values = await install_store.setup_values(store, await store.cluster(cluster))
    show(properties.render(values, masked=True).rstrip("\n"))


def _finish(cluster: str, report: ApplyReport, as_json: bool, profile: bool) -> None:
    if not report.results and not as_json:
        show(f"{cluster} has no install settings: its Gluu Server is installed outside clustermgr")
        return
    finish_report(report, as_json, profile=profile)


def _read(path: Path | None) -> bytes:
    assert path is not None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None


def _password(env: str | None, as_json: bool) -> Secret | None:
    if env:
        value = os.environ.get(env)
        if value is None:
            raise InvalidInput(f"environment variable {env} is not set")
        return Secret(value, label="gluu-admin")
    if as_json:
        return None
    typed = typer.prompt(
        "The Gluu admin's password (empty: keep the one set)",
        hide_input=True,
        default="",
        show_default=False,
    )
    return Secret(typed, label="gluu-admin") if typed else None
