"""An apply report made of several applies."""

from __future__ import annotations

from clustermgr.plan.model import ApplyReport, Outcome, StepResult


def test_a_change_in_parts_merges_into_one_report_host_by_host() -> None:
    def row(host: str, title: str) -> StepResult:
        return StepResult(f"{host}:{title}", host, title, Outcome.CHANGED, "r")

    first = ApplyReport("a", False, {"h1": [row("h1", "one")], "h2": []})
    second = ApplyReport("b", False, {"h2": [row("h2", "two")], "h1": [row("h1", "three")]})
    merged = ApplyReport.merged("whole", [first, second], dry_run=True)
    assert (merged.plan, merged.dry_run, list(merged.results)) == ("whole", True, ["h1", "h2"])
    assert [r.title for r in merged.results["h1"]] == ["one", "three"]
    assert [r.title for r in merged.results["h2"]] == ["two"]
