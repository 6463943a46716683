"""``clustermgr admin``: accounts of the web GUI and the REST API.

Whoever can run this command on the manager's machine (and read its database
and key) is trusted: it acts as admin, and it is also the way back in after a
lost password or TOTP device.  Audit entries name the actor ``cli:<os user>``.
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Annotated

import typer
from rich.markup import escape

from clustermgr.auth import service as auth
from clustermgr.cli.options import Json
from clustermgr.cli.output import emit_json, run_async, say, show
from clustermgr.cli.session import manager
from clustermgr.cli.table import show_table
from clustermgr.errors import InvalidInput
from clustermgr.redact import Secret

app = typer.Typer(no_args_is_help=True)

User = Annotated[str, typer.Argument(help="User name (lower case).")]
PasswordEnv = Annotated[
    str | None,
    typer.Option(help="Environment variable holding the password (instead of a prompt)."),
]
TokenName = Annotated[str, typer.Option("--name", help="The token's name, e.g. ci-deploy.")]
ROLES = ", ".join(r.value for r in auth.UserRole)


def _role(value: str) -> auth.UserRole:
    return auth.UserRole.parse(value)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"cli:uid {os.getuid()}"


def _read_password(password_env: str | None, as_json: bool) -> Secret:
    if password_env:
        value = os.environ.get(password_env)
        if value is None:
            raise InvalidInput(f"environment variable {password_env} is not set")
        return Secret(value, label="password")
    if not sys.stdin.isatty() or as_json:
        raise InvalidInput(
            "no password given", hint="give --password-env VAR with the password in that variable"
        )
    say(
        f"[dim]at least {auth.MIN_PASSWORD_LENGTH} characters, mixing at least two of: "
        "lower case, upper case, digits, other characters[/]"
    )
    value = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return Secret(value, label="password")


@app.command()
@run_async()
async def create(
    user: User,
    password_env: PasswordEnv = None,
    role: Annotated[str, typer.Option(help=f"What the user may do: {ROLES}.")] = "viewer",
    as_json: Json = False,
) -> None:
    """Create a user (prompts for the password twice); a viewer unless --role says more."""
    chosen = _role(role)
    password = _read_password(password_env, as_json)
    async with manager() as mgr:
        view = await auth.create_user(mgr, user, password, role=chosen, actor=_actor())
    if as_json:
        emit_json(view.as_dict())
    else:
        show(f"created user {escape(view.username)} ({view.role.value})")


@app.command("role")
@run_async()
async def role_(
    user: User,
    role: Annotated[str, typer.Argument(help=f"The new role: {ROLES}.")],
    as_json: Json = False,
) -> None:
    """Give a user another role; its API tokens can do no more than the new role."""
    chosen = _role(role)
    async with manager() as mgr:
        view = await auth.set_role(mgr, user, chosen, actor=_actor())
    if as_json:
        emit_json(view.as_dict())
    else:
        show(f"{escape(view.username)} is now {view.role.value}")


@app.command("list")
@run_async()
async def list_(as_json: Json = False) -> None:
    """List users."""
    async with manager() as mgr:
        views = await auth.list_users(mgr)
    if as_json:
        emit_json([v.as_dict() for v in views])
        return
    if not views:
        say("no users yet: create one with `clustermgr admin create USER`")
        return
    show_table(
        ["USER", "ROLE", "SIGN-IN", "CREATED (UTC)"],
        [
            [
                escape(v.username),
                v.role.value,
                "TOTP" if v.totp_enabled else "password only",
                f"{v.created_at:%Y-%m-%d %H:%M}",
            ]
            for v in views
        ],
    )


@app.command()
@run_async()
async def token(
    user: User,
    name: TokenName,
    role: Annotated[
        str | None, typer.Option(help=f"{ROLES}; at most the user's (default: the user's).")
    ] = None,
    days: Annotated[
        int, typer.Option(help=f"Days until it expires (1 to {auth.MAX_TOKEN_DAYS}).")
    ] = auth.DEFAULT_TOKEN_DAYS,
    as_json: Json = False,
) -> None:
    """Create an API token; it is printed once, on stdout, and cannot be shown again."""
    chosen = _role(role) if role is not None else None
    async with manager() as mgr:
        secret = await auth.create_api_token(
            mgr, user, name, role=chosen, days=days, actor=_actor()
        )
        (made,) = [t for t in await auth.list_api_tokens(mgr, user) if t.name == name]
    if as_json:
        emit_json(
            {
                "user": user.strip().lower(),
                "name": name,
                "token": secret,
                "role": made.role.value,
                "expires_at": made.expires_at.isoformat(),
            }
        )
        return
    sys.stdout.write(secret + "\n")  # exactly as it is, for a script to store
    sys.stdout.flush()
    say(
        f"[dim]API token {escape(name)} of {escape(user)} ({made.role.value}, expires "
        f"{made.expires_at:%Y-%m-%d %H:%M} UTC): store it now, it is not shown again[/]"
    )


@app.command("revoke-token")
@run_async()
async def revoke_token(user: User, name: TokenName, as_json: Json = False) -> None:
    """Revoke an API token by name."""
    async with manager() as mgr:
        await auth.revoke_api_token(mgr, user, name, actor=_actor())
    if as_json:
        emit_json({"user": user.strip().lower(), "revoked": name})
    else:
        show(f"revoked API token {escape(name)} of {escape(user)}")


@app.command()
@run_async()
async def password(user: User, password_env: PasswordEnv = None, as_json: Json = False) -> None:
    """Set a user's password; every web session of that user ends."""
    secret = _read_password(password_env, as_json)
    async with manager() as mgr:
        await auth.set_password(mgr, user, secret, actor=_actor())
    if as_json:
        emit_json({"user": user.strip().lower(), "password_changed": True})
    else:
        show(f"password of {escape(user)} changed; its web sessions ended")


@app.command("disable-totp")
@run_async()
async def disable_totp(user: User, as_json: Json = False) -> None:
    """Remove a user's TOTP enrolment (lost phone); the password alone logs in again."""
    async with manager() as mgr:
        await auth.disable_totp(mgr, user, actor=_actor())
    if as_json:
        emit_json({"user": user.strip().lower(), "totp_enabled": False})
    else:
        show(f"TOTP disabled for {escape(user)}")
