"""``clustermgr cluster deploy``: every stage's plan, one confirmation, the stages
applied in order.

The stages come from the component registry: the entry point hands them over as the
command's context object (:class:`~clustermgr.cli.stages.DeployStages`).  The plan
shown before the question and the progress go to stderr, the result to stdout.
"""

from __future__ import annotations

from collections.abc import Callable

import typer
from rich.markup import escape

from clustermgr.cli.options import Json, Profile, Yes
from clustermgr.cli.output import confirm_or_exit, emit_json, print_event, run_async, say, show
from clustermgr.cli.reports import show_profile, show_report
from clustermgr.cli.session import cli_actor, manager
from clustermgr.cli.stages import DeployStages
from clustermgr.jobs.deploy import DeployReport, StageStatus, apply_stages, plan_stages
from clustermgr.jobs.kinds import JobContext, NoParams
from clustermgr.plan.events import ignore
from clustermgr.plan.model import Outcome
from clustermgr.words import count


def show_deploy(report: DeployReport, line: Callable[[str], None] = show) -> None:
    """Each stage, its status and its steps, one ``line`` each (by default the result,
    on stdout)."""
    for number, stage in enumerate(report.stages, 1):
        note = f" [dim]({escape(stage.note)})[/]" if stage.note else ""
        line(f"[bold]stage {number}: {escape(stage.title)}[/]: {stage.status.value}{note}")
        if stage.steps is not None:
            show_report(stage.steps, line)
    changing = report.count(Outcome.WOULD_CHANGE) + report.count(Outcome.CHANGED)
    line(f"{'would change' if report.dry_run else 'changed'}: {count(changing, 'step')}")


@run_async()
async def deploy(
    ctx: typer.Context, name: str, yes: Yes = False, as_json: Json = False, profile: Profile = False
) -> None:
    """Deploy every stage in order (the base preparation, then each component): shows the
    whole plan, asks, then applies stage by stage and stops at the first that fails."""
    found = ctx.find_object(DeployStages)
    stages = found.load() if found is not None else ()
    progress = ignore if as_json else print_event
    async with manager() as mgr:
        context = JobContext(mgr, name, NoParams(), progress, lambda: False, actor=cli_actor())
        plan = await plan_stages(context, stages)
        pending = plan.count(Outcome.WOULD_CHANGE) or any(
            s.status is StageStatus.WAITS for s in plan.stages
        )
        if not plan.ok or not pending:
            _finish(plan, as_json, "nothing to change" if plan.ok else "the plan failed", profile)
            return
        if not as_json:  # what the question is about: stderr, as every preview
            show_deploy(plan, say)
        confirm_or_exit(
            yes,
            as_json,
            f"Deploy these changes to cluster {name}?",
            change=f"{count(plan.count(Outcome.WOULD_CHANGE), 'step')} would change servers",
        )
        # A person reviewed the plan: apply it only if a fresh plan is the same.
        reviewed = None if yes else plan.digest
        result = await apply_stages(context, stages, reviewed)
    _finish(result, as_json, "deployed" if result.ok else "the deploy stopped", profile)


def _finish(report: DeployReport, as_json: bool, summary: str, profile: bool) -> None:
    if as_json:
        emit_json(report.as_dict())
    else:
        show_deploy(report)
        show(f"[bold]{escape(summary)}[/]")
        if profile:
            show_profile(report.timing())
    if not report.ok:
        raise typer.Exit(1)
