"""cn=config as the planner read it, for the entry diffs plans show (pure)."""

from __future__ import annotations

from clustermgr.facts.ldap import SlapdConfig
from clustermgr.plan.entries import Known


def known_entries(config: SlapdConfig) -> Known:
    """The entries and attributes :data:`~clustermgr.facts.ldap.SLAPD_CONFIG` reads."""
    entries: dict[str, dict[str, list[str]]] = {
        "cn=config": {"olcserverid": list(config.server_ids)}
    }
    if config.module_dn:
        entries[config.module_dn.lower()] = {"olcmoduleload": sorted(config.modules)}
    for db in config.databases:
        entries[db.dn.lower()] = {
            "olcsuffix": [db.suffix] if db.suffix else [],
            "olcdbdirectory": [db.directory] if db.directory else [],
            "olcaccess": list(db.access),
            "olclimits": list(db.limits),
            "olcmultiprovider": ["TRUE"] if db.multi_provider else [],
            "olcsyncrepl": list(db.agreements),
        }
        for overlay in sorted(db.overlays):
            entries[f"olcoverlay={overlay},{db.dn}".lower()] = {"olcoverlay": [overlay]}
    return entries
