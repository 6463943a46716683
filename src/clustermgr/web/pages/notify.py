"""The notifications page: every channel with its state; admins add, change, remove,
switch on and off, and send a test."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from clustermgr.errors import ClustermgrError
from clustermgr.notify import service
from clustermgr.notify.channels import (
    ChannelSpec,
    ChannelView,
    EmailSettings,
    Level,
    WebhookSettings,
    parse_settings,
    parse_spec,
)
from clustermgr.redact import Secret
from clustermgr.web.deps import SessionDep, WebDep
from clustermgr.web.pages.common import actor, error_status, redirect, render, role

router = APIRouter()


def _form(view: ChannelView | None = None) -> dict[str, Any]:
    """The form's values: a channel's, or a new channel's defaults."""
    if view is None:
        return {"min_severity": Level.WARNING.value, "port": "587", "starttls": True}
    config = view.config
    return {
        "name": view.name,
        "min_severity": view.min_severity,
        "cluster": view.cluster or "",
        "enabled": "yes" if view.enabled else "no",
        "url": config.get("url", ""),
        "host": config.get("host", ""),
        "port": str(config.get("port", 587)),
        "starttls": config.get("starttls", True),
        "ca_file": config.get("ca_file") or "",
        "username": config.get("username") or "",
        "sender": config.get("sender", ""),
        "recipients": ", ".join(config.get("recipients", [])),
        "has_password": view.has_password,
    }


async def _page(web: WebDep, request: Request, *, status: int = 200, **extra: Any) -> Response:
    context = {
        "channels": await service.list_channels(web.manager),
        "levels": [level.value for level in Level],
        "form": _form(),
        "form_kind": "",
        "per_minute": web.manager.settings.notify_per_minute,
        **extra,
    }
    return render(web, request, "notify/index.html", context, status=status)


@router.get("/notify", response_class=HTMLResponse)
async def notify_page(request: Request, web: WebDep) -> Response:
    return await _page(web, request)


def _parts(
    kind: str, values: dict[str, str]
) -> tuple[ChannelSpec, EmailSettings | WebhookSettings, Secret | None]:
    spec = parse_spec(
        name=values.get("name", "").strip(),
        min_severity=values.get("min_severity", "warning"),
        cluster=values.get("cluster", "").strip() or None,
        enabled=values.get("enabled", "yes") == "yes",
    )
    if kind == "webhook":
        return spec, parse_settings("webhook", {"url": values.get("url", "").strip()}), None
    recipients = [r.strip() for r in values.get("recipients", "").replace("\n", ",").split(",")]
    port = values.get("port", "").strip() or "587"
    settings = parse_settings(
        "email",
        {
            "host": values.get("host", "").strip(),
            "port": port,
            "starttls": values.get("starttls") == "yes",
            "ca_file": values.get("ca_file", "").strip() or None,
            "username": values.get("username", "").strip() or None,
            "sender": values.get("sender", "").strip(),
            "recipients": [r for r in recipients if r],
        },
    )
    password = values.get("password", "")
    return spec, settings, Secret(password, label="smtp-password") if password else None


async def _values(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "password"} | {
        "password": str(form.get("password") or "")
    }


@router.post("/notify", response_class=HTMLResponse)
async def add_channel(request: Request, web: WebDep, session: SessionDep) -> Response:
    values = await _values(request)
    kind = values.get("kind", "")
    try:
        spec, settings, password = _parts(kind, values)
        await service.add_channel(
            web.manager,
            spec,
            settings,
            password=password,
            actor=actor(session),
            as_role=role(session),
        )
    except ClustermgrError as exc:
        shown: dict[str, Any] = {k: v for k, v in values.items() if k != "password"}
        shown["starttls"] = values.get("starttls") == "yes"
        return await _page(
            web, request, status=error_status(exc), error=exc, form=shown, form_kind=kind
        )
    return redirect("/notify?done=channel-added")


@router.get("/notify/{name}", response_class=HTMLResponse)
async def edit_page(name: str, request: Request, web: WebDep) -> Response:
    view = await service.get_channel(web.manager, name)
    context = {"channel": view, "form": _form(view), "levels": [level.value for level in Level]}
    return render(web, request, "notify/edit.html", context)


@router.post("/notify/{name}", response_class=HTMLResponse)
async def update_channel(name: str, request: Request, web: WebDep, session: SessionDep) -> Response:
    values = await _values(request)
    try:
        spec, settings, password = _parts(values.get("kind", ""), values)
        await service.update_channel(
            web.manager,
            name,
            spec,
            settings,
            password=password,
            forget_password=values.get("forget_password") == "yes",
            actor=actor(session),
            as_role=role(session),
        )
    except ClustermgrError as exc:
        try:
            view = await service.get_channel(web.manager, name)
        except ClustermgrError:  # no such channel (or a bad name): the list says why
            return await _page(web, request, status=error_status(exc), error=exc)
        form: dict[str, Any] = {**_form(view), **{k: v for k, v in values.items()}}
        form.pop("password", None)
        form["starttls"] = values.get("starttls") == "yes"
        context = {"channel": view, "form": form, "levels": [v.value for v in Level], "error": exc}
        return render(web, request, "notify/edit.html", context, status=error_status(exc))
    return redirect("/notify?done=channel-saved")


@router.post("/notify/{name}/remove", response_class=HTMLResponse)
async def remove_channel(name: str, request: Request, web: WebDep, session: SessionDep) -> Response:
    await service.remove_channel(web.manager, name, actor=actor(session), as_role=role(session))
    return redirect("/notify?done=channel-removed")


@router.post("/notify/{name}/enable", response_class=HTMLResponse)
async def enable_channel(name: str, request: Request, web: WebDep, session: SessionDep) -> Response:
    await service.set_enabled(web.manager, name, True, actor=actor(session), as_role=role(session))
    return redirect("/notify?done=channel-enabled")


@router.post("/notify/{name}/disable", response_class=HTMLResponse)
async def disable_channel(
    name: str, request: Request, web: WebDep, session: SessionDep
) -> Response:
    await service.set_enabled(web.manager, name, False, actor=actor(session), as_role=role(session))
    return redirect("/notify?done=channel-disabled")


@router.post("/notify/{name}/test", response_class=HTMLResponse)
async def test_channel(name: str, request: Request, web: WebDep, session: SessionDep) -> Response:
    try:
        await service.test_channel(web.manager, name, actor=actor(session), as_role=role(session))
    except ClustermgrError as exc:
        return await _page(web, request, status=error_status(exc), test_error=exc, tested=name)
    return redirect("/notify?done=test-sent")
