"""LDIF change records applied to the entries a planner read: what a plan shows."""

from __future__ import annotations

import base64

from clustermgr.plan.entries import changes, entry_diff, mask_value
from clustermgr.plan.model import EntryChange
from clustermgr.redact import MASK, Secret

DB = "olcDatabase={1}mdb,cn=config"


def test_a_modify_shows_the_touched_attributes_now_and_after() -> None:
    known = {
        DB.lower(): {
            "olcaccess": ["to * by users read"],
            "olclimits": [],
            "olcsuffix": ["o=gluu"],
        }
    }
    ldif = (
        f"dn: {DB}\nchangetype: modify\nadd: olcAccess\nolcAccess: {{0}}to * by dn=x read\n-\n"
        f"\ndn: {DB}\nchangetype: modify\nadd: olcLimits\nolcLimits: {{0}}dn.exact=x size=unlimited\n-\n"
    )
    first, second = changes(ldif, known)
    assert first == EntryChange(
        DB,
        (("olcAccess", "to * by users read"),),
        (("olcAccess", "to * by dn=x read"), ("olcAccess", "to * by users read")),
    )
    assert second.before == () and second.after == (("olcLimits", "dn.exact=x size=unlimited"),)
    diff = entry_diff(first)
    assert diff.path == f"ldap:///{DB}" and not diff.created
    assert diff.diff.splitlines() == [
        f"--- ldap:///{DB}",
        f"+++ ldap:///{DB}",
        "@@ -1,2 +1,3 @@",
        f" dn: {DB}",
        "+olcAccess: to * by dn=x read",
        " olcAccess: to * by users read",
    ]


def test_replace_and_delete() -> None:
    known = {"cn=config": {"olcserverid": ["1 ldap://a/", "3 ldap://c/"]}}
    (ids,) = changes(
        "dn: cn=config\nchangetype: modify\nreplace: olcServerID\n"
        "olcServerID: 1 ldap://a/\nolcServerID: 2 ldap://b/\n-\n",
        known,
    )
    assert ids.before == (("olcServerID", "1 ldap://a/"), ("olcServerID", "3 ldap://c/"))
    assert ids.after == (("olcServerID", "1 ldap://a/"), ("olcServerID", "2 ldap://b/"))
    (gone,) = changes(
        "dn: cn=config\nchangetype: modify\ndelete: olcServerID\nolcServerID: 3 ldap://c/\n-\n",
        known,
    )
    assert gone.after == (("olcServerID", "1 ldap://a/"),)


def test_an_added_entry_has_no_before_and_an_unread_attribute_is_said() -> None:
    (added,) = changes(
        "dn: olcOverlay=syncprov,x\nchangetype: add\nobjectClass: olcOverlayConfig\n"
        "olcOverlay: syncprov\n",
        {},
    )
    diff = entry_diff(added)
    assert added.before is None and diff.created
    assert diff.diff.startswith("--- /dev/null\n+++ ldap:///olcOverlay=syncprov,x\n")
    assert "+olcOverlay: syncprov" in diff.diff.splitlines()
    (unread,) = changes(f"dn: {DB}\nchangetype: modify\nreplace: olcSyncrepl\n-\n", {})
    assert unread.unread == ("olcSyncrepl",)
    assert (
        "-# olcSyncrepl: not read (its current values are not shown)"
        in entry_diff(unread).diff.splitlines()
    )


def test_secrets_are_masked_when_the_change_is_built() -> None:
    password = "Repl1cat0r-Secret-xyz"
    held = Secret.held("Another-Held-Secret-42")
    encoded = base64.b64encode(b"{SSHA}aGFzaGVkLXNhbHRlZA==").decode()
    ldif = Secret(
        f"dn: {DB}\nchangetype: modify\nreplace: olcSyncrepl\n"
        f'olcSyncrepl: {{0}}rid=001 binddn="cn=r" credentials="{password}" searchbase="o=gluu"\n'
        f"olcSyncrepl: {{1}}rid=002 credentials={password} retry=5\n-\n"
        f"replace: olcRootPW\nolcRootPW: {held.reveal()}\n-\n"
        f"\ndn: cn=replicator,o=gluu\nchangetype: add\nuserPassword:: {encoded}\n"
        f"description: also {held.reveal()}\n"
    )
    agreements, replicator = changes(ldif, {DB.lower(): {"olcsyncrepl": []}})
    assert agreements.after == (
        ("olcSyncrepl", f'rid=001 binddn="cn=r" credentials={MASK} searchbase="o=gluu"'),
        ("olcSyncrepl", f"rid=002 credentials={MASK} retry=5"),
        ("olcRootPW", MASK),
    )
    assert replicator.after == (("userPassword", MASK), ("description", f"also {MASK}"))
    everything = repr((agreements, replicator)) + entry_diff(agreements).diff
    for value in (password, held.reveal(), "SSHA", encoded):
        assert value not in everything
    assert mask_value("olcSyncrepl", 'x credentials = "a b c" y') == f"x credentials = {MASK} y"
