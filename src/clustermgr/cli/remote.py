"""``clustermgr remote``: drive a running manager through its REST API.

The manager's URL comes from ``--url`` or ``CLUSTERMGR_URL``; the API token
from ``CLUSTERMGR_TOKEN`` or a file (``--token-file``), never from the command
line, where every user of the machine sees it in the process list.  Output
follows the other commands: results on stdout (words and tables, or ``--json``
data), progress on stderr, one error shape and exit status 1 when something
failed.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.markup import escape

from clustermgr.cli.options import Json
from clustermgr.cli.output import OUTCOME_STYLE, emit_json, run_async, say, show
from clustermgr.cli.table import show_table
from clustermgr.errors import ClustermgrError, InvalidInput
from clustermgr.plan.model import Outcome

app = typer.Typer(no_args_is_help=True)

API = "/api/v1"
#: Seconds a stream may stay silent (the manager sends a keep-alive every 15 s).
STREAM_READ_TIMEOUT = 60.0
#: Reconnections of an event stream that broke, resuming at the last event seen.
STREAM_RETRIES = 5

Url = Annotated[
    str,
    typer.Option(
        "--url", envvar="CLUSTERMGR_URL", help="The manager, e.g. https://manager.example.org."
    ),
]
#: Where the API token is read from when no file is given.
TOKEN_ENV = "CLUSTERMGR_TOKEN"  # noqa: S105 (the variable's name, not a token)
TokenFile = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        help=f"File holding the API token (`clustermgr admin token USER --name NAME`); "
        f"default: the {TOKEN_ENV} environment variable.",
        show_default=False,
    ),
]
#: Refused: a token on the command line is in the process list for every user to read.
Token = Annotated[str | None, typer.Option("--token", hidden=True, show_default=False)]
CHECK_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red"}
SUCCEEDED = "succeeded"


class ApiError(ClustermgrError):
    """The manager answered with an error (its code is kept) or could not be reached."""

    def __init__(self, code: str, message: str, *, hint: str | None = None) -> None:
        self.code = code
        super().__init__(message, hint=hint)

    @classmethod
    def of(cls, response: httpx.Response) -> ApiError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        message = str(body.get("message") or response.reason_phrase or "error")
        hint = body.get("hint")
        return cls(
            str(body.get("error") or f"http_{response.status_code}"),
            f"{message} (HTTP {response.status_code})",
            hint=str(hint) if hint else None,
        )


def api_token(token: str | None, token_file: Path | None) -> str:
    """The API token: from ``token_file``, else from the environment ("" when neither).

    ``token`` is what ``--token`` was given: refused with the ways that work.
    """
    if token is not None:
        raise InvalidInput(
            "--token is not accepted: a token on the command line is visible to every "
            "user of the machine (ps)",
            hint=f"set {TOKEN_ENV}, or give --token-file FILE",
        )
    if token_file is None:
        return os.environ.get(TOKEN_ENV, "").strip()
    try:
        text = token_file.read_text().strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a text file"
        raise InvalidInput(f"cannot read the token file {token_file}: {reason}") from None
    if not text:
        raise InvalidInput(f"the token file {token_file} is empty")
    return text


class Remote:
    """The API of one manager, as the token's user."""

    def __init__(self, url: str, token: str) -> None:
        if not url or not token:
            raise ApiError(
                "missing_option",
                "the manager's URL and an API token are needed",
                hint=f"give --url (or set CLUSTERMGR_URL) and set {TOKEN_ENV} or give --token-file",
            )
        self.url = url.rstrip("/")
        self.http = httpx.AsyncClient(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=httpx.Timeout(30.0, read=STREAM_READ_TIMEOUT),
        )

    async def __aenter__(self) -> Remote:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.http.aclose()

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self.http.request(method, API + path, **kwargs)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        if response.is_error:
            raise ApiError.of(response)
        return response.json() if response.content else None

    async def events(self, job_id: int) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """(event, data) of a job's stream until ``done``; reconnects where it broke."""
        last, retries = 0, 0
        while True:
            try:
                async for name, event_id, data in self._stream(job_id, last):
                    retries = 0
                    if event_id is not None:
                        last = event_id
                    yield name, data
                    if name == "done":
                        return
            except httpx.TransportError as exc:
                retries += 1
                if retries > STREAM_RETRIES:
                    raise self._unreachable(exc) from None
                continue
            retries += 1  # the stream ended without `done`
            if retries > STREAM_RETRIES:
                raise ApiError("stream_ended", f"the event stream of job #{job_id} ended early")

    async def _stream(
        self, job_id: int, after: int
    ) -> AsyncIterator[tuple[str, int | None, dict[str, Any]]]:
        headers = {"Accept": "text/event-stream", "Last-Event-ID": str(after)}
        async with self.http.stream(
            "GET", f"{API}/jobs/{job_id}/events", headers=headers
        ) as response:
            if response.is_error:
                await response.aread()
                raise ApiError.of(response)
            name, event_id, data = "message", None, ""
            async for line in response.aiter_lines():
                if not line:
                    if data:
                        yield name, event_id, json.loads(data)
                    name, event_id, data = "message", None, ""
                elif line.startswith(":"):
                    continue
                else:
                    field, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    if field == "event":
                        name = value
                    elif field == "id" and value.isdigit():
                        event_id = int(value)
                    elif field == "data":
                        data += value

    def _unreachable(self, exc: Exception) -> ApiError:
        return ApiError(
            "manager_unreachable",
            f"cannot reach the manager at {self.url}: {type(exc).__name__}: {exc}",
            hint="check --url (or CLUSTERMGR_URL) and that `clustermgr serve` runs there",
        )


def show_event(data: dict[str, Any]) -> None:
    """One line per event worth seeing, like the local commands print them."""
    kind, message = data.get("kind"), escape(str(data.get("message", "")))
    where = f"[bold]{escape(str(data['host']))}[/] " if data.get("host") else ""
    outcome = data.get("outcome")
    if kind == "step_finished" and outcome in {o.value for o in Outcome}:
        say(f"  {where}[{OUTCOME_STYLE[Outcome(outcome)]}]{message}[/]")
    elif kind == "host_failed":
        say(f"  {where}[bold red]unreachable: {message}[/]")
    elif kind == "check":
        style = CHECK_STYLE.get(message.partition(":")[0], "")
        say(f"  {where}[{style}]{message}[/]" if style else f"  {where}{message}")
    elif kind == "step_started":
        say(f"  {where}[dim]… {message}[/]")
    elif kind in ("plan_started", "plan_finished", "interrupted"):
        say(f"[bold]{message}[/]")


JOB_COLUMNS = ["JOB", "KIND", "CLUSTER", "STATE", "BY", "CREATED"]


def _job_row(job: dict[str, Any]) -> list[str]:
    state = str(job["state"])
    style = "green" if state == SUCCEEDED else "cyan" if state in ("queued", "running") else "red"
    return [
        f"#{job['id']}",
        escape(str(job["kind"])),
        escape(str(job["cluster"])),
        f"[{style}]{escape(state)}[/]",
        escape(str(job["requested_by"])),
        escape(str(job["created_at"])),
    ]


@app.command("servers")
@run_async()
async def servers_(
    url: Url = "",
    token_file: TokenFile = None,
    token: Token = None,
    cluster: Annotated[str | None, typer.Option("--cluster", "-c")] = None,
    as_json: Json = False,
) -> None:
    """List the manager's servers."""
    async with Remote(url, api_token(token, token_file)) as remote:
        rows = await remote.call("GET", "/servers", params={"cluster": cluster} if cluster else {})
    if as_json:
        emit_json(rows)
        return
    if not rows:
        say("no servers")
        return
    show_table(
        ["CLUSTER", "SERVER", "ROLE", "STATE", "SSH"],
        [
            [
                escape(str(s["cluster"])),
                escape(str(s["hostname"])),
                escape(str(s["role"])),
                escape(str(s["state"])),
                escape(f"{s['ssh_user']}@{s['address']}:{s['ssh_port']}"),
            ]
            for s in rows
        ],
    )


@app.command("jobs")
@run_async()
async def jobs_(
    url: Url = "",
    token_file: TokenFile = None,
    token: Token = None,
    cluster: Annotated[str | None, typer.Option("--cluster", "-c")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 20,
    as_json: Json = False,
) -> None:
    """List the latest jobs, newest first."""
    params: dict[str, str | int] = {"limit": limit}
    if cluster:
        params["cluster"] = cluster
    async with Remote(url, api_token(token, token_file)) as remote:
        page = await remote.call("GET", "/jobs", params=params)
    if as_json:
        emit_json(page["items"])
        return
    if not page["items"]:
        say("no jobs")
        return
    show_table(JOB_COLUMNS, [_job_row(job) for job in page["items"]])


@app.command("run")
@run_async()
async def run(
    kind: Annotated[str, typer.Argument(help="preflight, plan or apply.")],
    cluster: Annotated[str, typer.Argument(help="Cluster name.")],
    url: Url = "",
    token_file: TokenFile = None,
    token: Token = None,
    hosts: Annotated[
        list[str] | None, typer.Option("--host", help="preflight: only this server (repeat).")
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Follow the job's events until it has finished.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Start a job; with --wait, follow it and exit non-zero unless it succeeded."""
    body: dict[str, Any] = {"kind": kind, "cluster": cluster}
    if hosts:
        body["params"] = {"hosts": hosts}
    async with Remote(url, api_token(token, token_file)) as remote:
        job = await remote.call("POST", "/jobs", json=body)
        say(f"started job #{job['id']} ({escape(kind)} of cluster {escape(cluster)})")
        if not wait:
            if as_json:
                emit_json(job)
            else:
                show_table(JOB_COLUMNS, [_job_row(job)])
            return
        async for name, data in remote.events(job["id"]):
            if name == "step":
                show_event(data)
            elif name == "done":
                job = data
    if as_json:
        emit_json(job)
    else:
        show_table(JOB_COLUMNS, [_job_row(job)])
        if job.get("error"):
            show(f"[red]{escape(str(job['error']))}[/]")
    if job["state"] != SUCCEEDED:
        raise typer.Exit(1)


@app.command("cancel")
@run_async()
async def cancel(
    job_id: Annotated[int, typer.Argument(help="The job's number.", min=1)],
    url: Url = "",
    token_file: TokenFile = None,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Ask a job to stop between steps."""
    async with Remote(url, api_token(token, token_file)) as remote:
        job = await remote.call("POST", f"/jobs/{job_id}/cancel")
    if as_json:
        emit_json(job)
    elif job["state"] in ("queued", "running"):
        show(f"cancel requested: job #{job_id} stops after its current step")
    else:
        show(f"job #{job_id} is {escape(str(job['state']))}")
