"""A cluster with one identity node: replication set-up succeeds with no agreement, and
re-applying changes nothing (slapd takes multi-provider only with an agreement)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from clustermgr.plan.model import Outcome
from labfixture import SLOT, Lab, running_lab
from ldaplab import LDAPI, replicate

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    prefix, subnet = SLOT.spare()
    base = tmp_path_factory.mktemp("ldap1-lab")
    async with running_lab(base, prefix=prefix, subnet=subnet, identity_nodes=1) as running:
        yield running


async def test_a_lone_node_is_set_up_without_agreements(lab: Lab) -> None:
    first = await replicate(lab)
    assert first["ok"], json.dumps(first, indent=1)
    second = await replicate(lab)
    counts = second["counts"]
    assert counts == {**{o.value: 0 for o in Outcome}, "unchanged": counts["unchanged"]}, second
    config = await lab.sh(
        "idp1", f"{LDAPI} -b olcDatabase={{1}}mdb,cn=config -s base olcSyncrepl olcMultiProvider"
    )
    assert "olcSyncrepl" not in config and "olcMultiProvider" not in config
    accesslog = await lab.sh("idp1", f"{LDAPI} -b cn=config '(olcSuffix=cn=accesslog)' dn")
    assert "olcDatabase=" in accesslog, "prepared for a second node all the same"
