"""A cluster's install page: the install settings form (with the repository key or the
package file), setup.properties as every node gets it (passwords masked), the plan
button, and removing Gluu Server from a node (with what is lost said first)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from clustermgr import openpgp
from clustermgr.components.install import properties
from clustermgr.components.install import store as install_store
from clustermgr.components.install.settings import Source
from clustermgr.core.access import get_cluster
from clustermgr.errors import ClustermgrError, InvalidInput
from clustermgr.redact import Secret
from clustermgr.topology import Role
from clustermgr.validation import validate_key
from clustermgr.web.deps import SessionDep, WebDep
from clustermgr.web.pages import watched
from clustermgr.web.pages.common import actor, redirect, render, role, start_job

router = APIRouter()

FIELDS = ("organization", "city", "state", "country", "admin_email", "version")


@router.get("/clusters/{name}/install", response_class=HTMLResponse)
async def install_page(request: Request, web: WebDep, name: str) -> Response:
    return render(web, request, "install/page.html", await _context(web, name))


async def _context(web: WebDep, name: str, **extra: Any) -> dict[str, Any]:
    cluster = await get_cluster(web.manager, name)
    settings = await install_store.install_settings(web.manager, name)
    shown = ""
    if settings is not None:
        try:
            async with web.manager.store() as store:
                values = await install_store.setup_values(store, await store.cluster(name))
            shown = properties.render(values, masked=True)
        except ClustermgrError as exc:
            shown = f"# {exc.message}"
    key = settings.repository_key if settings is not None else None
    return {
        "cluster": cluster,
        "settings": settings,
        "fingerprint": openpgp.fingerprint(key) if key else "",
        "properties": shown,
        "sources": list(Source),
        "nodes": [s.hostname for s in cluster.servers if s.role is Role.IDENTITY],
        "jobs": await watched.recent_jobs(web, name, "install-"),
        "form": {},
        "problem": "",
        **extra,
    }


@router.post("/clusters/{name}/install/settings", response_class=HTMLResponse)
async def save_settings(
    request: Request,
    web: WebDep,
    session: SessionDep,
    name: str,
    organization: Annotated[str, Form()] = "",
    city: Annotated[str, Form()] = "",
    state: Annotated[str, Form()] = "",
    country: Annotated[str, Form()] = "",
    admin_email: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
    source: Annotated[str, Form()] = Source.REPOSITORY.value,
    repository_url: Annotated[str, Form()] = "",
    repository_suite: Annotated[str, Form()] = "stable",
    repository_component: Annotated[str, Form()] = "main",
    repository_key: Annotated[str, Form()] = "",
    key_file: UploadFile | None = None,
    package_file: UploadFile | None = None,
    admin_password: Annotated[str, Form()] = "",
) -> Response:
    """Saved whole; a refused form comes back filled in (but the password) with why."""
    typed = {
        "organization": organization,
        "city": city,
        "state": state,
        "country": country,
        "admin_email": admin_email,
        "version": version,
        "source": source,
        "repository_url": repository_url,
        "repository_suite": repository_suite,
        "repository_component": repository_component,
        "repository_key": repository_key,
    }
    try:
        fields = await _fields(web, name, typed, key_file, package_file)
        password = Secret(admin_password, label="gluu-admin") if admin_password else None
        await install_store.change(
            web.manager,
            name,
            fields,
            admin_password=password,
            actor=actor(session),
            as_role=role(session),
        )
    except InvalidInput as exc:
        context = await _context(web, name, form=typed, problem=exc.message)
        return render(web, request, "install/page.html", context, status=400)
    return redirect(f"/clusters/{name}/install")


async def _fields(
    web: WebDep,
    name: str,
    typed: dict[str, str],
    key_file: UploadFile | None,
    package_file: UploadFile | None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {k: typed[k].strip() for k in FIELDS}
    fields["source"] = typed["source"]
    if typed["source"] == Source.OFFLINE.value:
        current = await install_store.install_settings(web.manager, name)
        upload = await package_file.read() if package_file is not None else b""
        if upload:
            fields["package_sha256"] = install_store.keep_package(web.manager, upload)
        elif current is not None and current.package_sha256:
            fields["package_sha256"] = current.package_sha256
        return fields
    key = typed["repository_key"].strip()
    uploaded = await key_file.read() if key_file is not None else b""
    fields |= {
        "repository_url": typed["repository_url"].strip() or None,
        "repository_suite": typed["repository_suite"].strip(),
        "repository_component": typed["repository_component"].strip(),
        "repository_key": uploaded.decode("latin-1") if uploaded else key or None,
    }
    if uploaded and uploaded[:1] and uploaded[0] & 0x80:  # a binary key file
        fields["repository_key"] = validate_key(uploaded)
    return fields


@router.post("/clusters/{name}/install/plan")
async def plan(web: WebDep, session: SessionDep, name: str) -> Response:
    job = await start_job(web, session, kind="install-plan", cluster=name)
    return redirect(f"/jobs/{job.id}")


@router.post("/clusters/{name}/install/remove")
async def remove(
    web: WebDep,
    session: SessionDep,
    name: str,
    node: Annotated[str, Form()],
    understood: Annotated[str, Form()] = "",
) -> Response:
    if understood != "yes":
        raise InvalidInput(
            f"removing Gluu Server from {node} loses its directory data and configuration: "
            "tick the box that says so to go on"
        )
    job = await start_job(web, session, kind="install-remove", cluster=name, params={"node": node})
    return redirect(f"/jobs/{job.id}")
