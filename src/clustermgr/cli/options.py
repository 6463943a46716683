"""Options shared by several commands, declared once."""

from __future__ import annotations

from typing import Annotated

import typer

Json = Annotated[bool, typer.Option("--json", help="Print data as JSON on stdout.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show what would change; change nothing.")]
ClusterOpt = Annotated[str, typer.Option("--cluster", "-c", help="Cluster name.")]
Profile = Annotated[
    bool,
    typer.Option(
        "--profile",
        help="After the result, show where the time went: the slowest steps, each host's "
        "totals, rolling-turn waits and SSH time (with --json, the data's `timing`).",
    ),
]
