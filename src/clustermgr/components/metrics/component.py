"""Monitoring: the field's standard exporters on every server, bound to 127.0.0.1, and
the manager's scrape of them through each server's SSH connection."""

from __future__ import annotations

from clustermgr.components.contract import Component, Parts


def _parts() -> Parts:
    return Parts()


COMPONENT = Component(
    name="metrics",
    title="Monitoring",
    summary="exporters, metrics of every server and service",
    parts=_parts,
)
