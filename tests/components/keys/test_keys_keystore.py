"""The manager's keystore editing and the rotation's phases (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from clustermgr.components.keys import keystore, rotation
from clustermgr.components.keys.rotation import Phase, Rotation
from clustermgr.components.keys.settings import KeysSettings, changed, keys_settings
from clustermgr.errors import InvalidInput
from clustermgr.lab.gluu import oxauth

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _document() -> dict[str, object]:
    key = keystore.new_key()
    return {"signing_kid": key["kid"], "keys": [key]}


def test_a_new_key_is_one_the_identity_app_signs_and_validates_with() -> None:
    document = _document()
    # The app's own reader accepts the manager's key: d matches x and y, on P-256.
    loaded = oxauth.Keystore.from_document(json.loads(keystore.text(document)))
    token = oxauth.issue(loaded, issuer="https://x", subject="admin", lifetime=60)
    assert oxauth.validate(loaded, token, issuer="https://x")["sub"] == "admin"
    key = keystore.new_key()
    assert key["alg"] == "ES256" and key["crv"] == "P-256" and len(key["kid"]) == 43
    assert key["kid"] != keystore.new_key()["kid"]


def test_each_phase_edits_the_keystore_the_app_reads() -> None:
    document = _document()
    old = keystore.signing_kid(document)
    new = keystore.new_key()
    added = keystore.with_key(document, new)
    assert keystore.kids(added) == [old, new["kid"]] and keystore.signing_kid(added) == old
    assert keystore.with_key(added, new) == added  # adding it again changes nothing
    signing = keystore.with_signing_key(added, new["kid"])
    assert keystore.signing_kid(signing) == new["kid"]
    removed = keystore.without_keys(signing, [old])
    assert keystore.kids(removed) == [new["kid"]]
    for doc in (added, signing, removed):
        oxauth.Keystore.from_document(json.loads(keystore.text(doc)))


def test_the_signing_key_is_never_removed_and_bad_keystores_are_refused() -> None:
    document = _document()
    with pytest.raises(InvalidInput, match="signing key cannot be removed"):
        keystore.without_keys(document, [keystore.signing_kid(document)])
    with pytest.raises(InvalidInput, match="no key 'nope'"):
        keystore.with_signing_key(document, "nope")
    for bad, why in (
        (b"not json", "not JSON"),
        (b"[]", "no 'keys' list"),
        (b'{"keys": [{"kty": "EC"}], "signing_kid": "a"}', "has no 'kid'"),
        (b'{"keys": [{"kid": "a"}, {"kid": "a"}], "signing_kid": "a"}', "two keys"),
        (b'{"keys": [{"kid": "a"}], "signing_kid": "b"}', "names none"),
    ):
        with pytest.raises(InvalidInput, match=why):
            keystore.parse(bad)


def test_an_error_never_holds_key_material() -> None:
    document = _document()
    secret = str(document["keys"][0]["d"])  # type: ignore[index]
    with pytest.raises(InvalidInput) as caught:
        keystore.without_keys(document, [keystore.signing_kid(document)])
    assert secret not in caught.value.message


def test_a_rotation_goes_add_sign_remove_and_each_edit_can_be_done_again() -> None:
    document = _document()
    old = keystore.signing_kid(document)
    new = keystore.new_key()
    state = rotation.start(document, new, T0)
    assert state.old_kids == (old,) and state.phase is Phase.ADD
    assert rotation.phases_left(None) == rotation.phases_left(state) == rotation.ORDER
    added = rotation.edited(document, state, new)
    assert rotation.edited(added, state, None) == added  # resumed: the key is there
    signing_state = state.advanced(T0)
    assert signing_state is not None and signing_state.phase is Phase.SIGN
    assert rotation.phases_left(signing_state) == (Phase.SIGN, Phase.REMOVE)
    signing = rotation.edited(added, signing_state, None)
    assert keystore.signing_kid(signing) == new["kid"]
    later = T0 + timedelta(minutes=5)
    removing = signing_state.advanced(later)
    assert removing is not None and removing.signing_since == later
    assert removing.removable_at(timedelta(seconds=15)) == later + timedelta(seconds=15)
    done = rotation.edited(signing, removing, None)
    assert keystore.kids(done) == [new["kid"]]
    assert rotation.edited(done, removing, None) == done
    assert removing.advanced(later) is None
    assert Rotation.from_dict(removing.as_dict()) == removing


def test_a_rotation_whose_new_key_left_the_keystore_stops_clearly() -> None:
    document = _document()
    state = Rotation("gone", ("x",), Phase.SIGN, T0)
    with pytest.raises(InvalidInput, match="no longer in the sealed keystore"):
        rotation.edited(document, state, None)
    with pytest.raises(InvalidInput, match="cannot be read"):
        Rotation.from_dict({"new_kid": "a", "phase": "later"})


def test_the_plan_says_when_the_old_keys_can_go() -> None:
    state = Rotation("NEW", ("OLD",), Phase.REMOVE, T0, signing_since=T0)
    lifetime = timedelta(seconds=20)
    said = rotation.describe(Phase.REMOVE, state, lifetime, T0)
    assert "OLD" in said and (T0 + lifetime).isoformat(timespec="seconds") in said
    assert "now" in rotation.describe(Phase.REMOVE, state, lifetime, T0 + lifetime)
    assert "a new key" in rotation.describe(Phase.ADD, None, lifetime, T0)
    assert "make the new key the signing key" in rotation.describe(Phase.SIGN, None, lifetime, T0)


def test_settings_are_bounded_and_the_schedule_turns_off() -> None:
    assert keys_settings({}) == KeysSettings(3600, None)
    changed_ = changed(KeysSettings(), {"token_lifetime": "15", "rotate_every_days": 30})
    assert changed_ == KeysSettings(15, 30)
    assert changed(changed_, {"rotate_every_days": None}).rotate_every_days is None
    assert changed(changed_, {"token_lifetime": None}).token_lifetime == 15
    for bad in ({"token_lifetime": 5}, {"token_lifetime": "x"}, {"rotate_every_days": 0}):
        with pytest.raises(InvalidInput, match="is not a whole number from"):
            changed(KeysSettings(), bad)
    with pytest.raises(InvalidInput, match="unknown keys setting 'colour'"):
        changed(KeysSettings(), {"colour": 1})
