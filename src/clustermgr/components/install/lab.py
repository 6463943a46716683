"""Gluu Server on a lab's identity nodes, from the lab's own signed repository.

The lab gives bare servers and a repository, nothing more.  Tests and benchmarks that
start from installed nodes install them here, through the same settings and the same
apply as any cluster's.
"""

from __future__ import annotations

from clustermgr.components.install import apply as install
from clustermgr.components.install import store as install_store
from clustermgr.core.manager import Manager
from clustermgr.errors import ClustermgrError
from clustermgr.lab.config import AptRepo
from clustermgr.lab.gluu.package import GLUU_VERSION
from clustermgr.plan.events import Emit, ignore
from clustermgr.plan.model import ApplyReport, Outcome
from clustermgr.redact import Secret


def lab_settings(repo: AptRepo, **changes: object) -> dict[str, object]:
    """Install settings naming the lab's repository, its key and its package version."""
    return {
        "organization": "Example Org",
        "city": "Austin",
        "state": "TX",
        "country": "US",
        "admin_email": "admin@example.org",
        "version": GLUU_VERSION,
        "repository_url": repo.url.rstrip("/"),
        "repository_suite": repo.suite,
        "repository_component": repo.component,
        "repository_key": repo.public_key.read_text(),
        **changes,
    }


async def install_lab(
    manager: Manager,
    cluster_name: str,
    repo: AptRepo,
    admin_password: Secret,
    *,
    actor: str = "lab",
    emit: Emit = ignore,
) -> ApplyReport:
    """Set the lab's install settings and apply them; ClustermgrError names what failed."""
    await install_store.change(
        manager, cluster_name, lab_settings(repo), admin_password=admin_password, actor=actor
    )
    report = await install.apply(manager, cluster_name, dry_run=False, actor=actor, emit=emit)
    if not report.ok:
        failed = [
            f"{r.host}: {r.title}: {r.reason} {r.stderr_tail}".strip()
            for r in report.all()
            if r.outcome is Outcome.FAILED
        ]
        raise ClustermgrError("installing Gluu Server on the lab failed: " + "; ".join(failed))
    return report
