"""The cluster files: the web certificate, its key and the keystore, the same on every node."""

from __future__ import annotations

from pathlib import Path

from clustermgr.components.contract import Component, Parts, loads


def _parts() -> Parts:
    from clustermgr.components.files import jobs
    from clustermgr.components.files.desired import sealed_clusters
    from clustermgr.components.files.status import status
    from clustermgr.components.files.watch import FilesWatch

    return Parts(
        plan=jobs.PLAN,
        apply=jobs.APPLY,
        kinds=(jobs.STATUS,),
        status=status,
        set_up_in=sealed_clusters,
        watch=FilesWatch,
    )


COMPONENT = Component(
    name="files",
    title="Cluster files",
    summary="the certificates and keys every node holds the same",
    parts=_parts,
    cli=loads(f"{__package__}.cli", "app"),
    cli_help="The cluster files: the same certificates and keys on every identity node.",
    templates=Path(__file__).parent / "templates",
    # Their sealed copies are read from the first node the install set up.
    needs=("install",),
)
