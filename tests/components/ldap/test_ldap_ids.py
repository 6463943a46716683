"""Server id assignment and rid derivation (pure; the store's side is in test_ids_store.py)."""

from __future__ import annotations

import pytest

from clustermgr.components.ldap.ids import MAX_RID, MAX_SERVER_ID, Assigned, assign, rid_for
from clustermgr.components.ldap.model import Member, Replication
from clustermgr.errors import InvalidInput
from clustermgr.redact import Secret


def test_first_assignment_counts_from_one_in_order() -> None:
    result = assign([("a", 10), ("b", 11)], {}, 0)
    assert result.ids == {"a": 1, "b": 2}
    assert result.changed == {"a": Assigned(1, 10), "b": Assigned(2, 11)}
    assert result.mark == 2


def test_stored_ids_are_kept_and_nothing_changes() -> None:
    stored = {"a": Assigned(1, 10), "b": Assigned(2, 11)}
    result = assign([("b", 11), ("a", 10)], stored, 2)
    assert result.ids == {"a": 1, "b": 2}
    assert result.changed == {}
    assert result.mark == 2


def test_a_removed_servers_id_is_never_given_again() -> None:
    # b (id 2) was removed: its row is retired (no server), the mark stays at 2.
    stored = {"a": Assigned(1, 10), "b": Assigned(2, None)}
    result = assign([("a", 10), ("c", 12)], stored, 2)
    assert result.ids == {"a": 1, "c": 3}


def test_the_mark_wins_even_when_rows_are_gone() -> None:
    assert assign([("c", 12)], {}, 7).ids == {"c": 8}


def test_a_host_added_again_gets_a_new_id() -> None:
    stored = {"a": Assigned(1, 10), "b": Assigned(2, None)}
    result = assign([("a", 10), ("b", 13)], stored, 2)
    assert result.ids == {"a": 1, "b": 3}
    assert result.changed == {"b": Assigned(3, 13)}


def test_running_out_of_ids_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no LDAP server id left"):
        assign([("z", 1)], {}, MAX_SERVER_ID)


@pytest.mark.parametrize(
    ("sid", "ok"), [(1, True), (MAX_RID, True), (MAX_RID + 1, False), (0, False)]
)
def test_rid_is_the_peers_server_id_up_to_999(sid: int, ok: bool) -> None:
    if ok:
        assert rid_for(sid) == sid
    else:
        with pytest.raises(InvalidInput, match="cannot be replicated from"):
            rid_for(sid)


def test_replication_refuses_an_id_no_rid_can_name() -> None:
    with pytest.raises(InvalidInput, match="1000 cannot be replicated"):
        Replication((Member("a", 1), Member("b", 1000)), Secret("x"))
    # Alone, a node replicates from nobody: any olcServerID is fine.
    Replication((Member("a", 1000),), Secret("x"))
