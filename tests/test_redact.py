"""The redaction registry: only held secrets, bounded, one pattern."""

from __future__ import annotations

import random
import string
from collections.abc import Iterator

import pytest

from clustermgr import redact as redact_module
from clustermgr.redact import MASK, Secret, redact, registered_count


@pytest.fixture
def small_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(redact_module, "_registry", redact_module._Registry(8))
    yield


def test_a_typed_value_masks_itself_but_is_not_registered() -> None:
    before = registered_count()
    typed = Secret("lb.settings", label="password")
    assert str(typed) == MASK and "lb.settings" not in repr(typed)
    assert registered_count() == before
    assert redact("action lb.settings by admin") == "action lb.settings by admin"
    assert redact("action lb.settings by admin", typed) == f"action {MASK} by admin"


def test_a_held_secret_is_masked_in_any_text() -> None:
    held = Secret.held("held-Secret-value-77", label="redis")
    assert redact("auth held-Secret-value-77 failed") == f"auth {MASK} failed"
    assert held.reveal() == "held-Secret-value-77"


def test_the_longest_and_overlapping_values_are_masked_whole() -> None:
    Secret.held("overlap-abcdefgh")
    Secret.held("XYZ-overlap-abc")
    Secret.held("overlap-abcd")
    assert redact("[overlap-abcdefgh]") == f"[{MASK}]"
    assert redact("[XYZ-overlap-abcdefgh]") == f"[{MASK}]"
    assert redact("[overlap-abcdX overlap-abcd]") == f"[{MASK}X {MASK}]"


def test_values_with_pattern_characters_are_literal() -> None:
    Secret.held("a.b*c+(d)[e]|f\\g$^?{2}")
    assert redact("x a.b*c+(d)[e]|f\\g$^?{2} y") == f"x {MASK} y"
    assert redact("x aXbbbc+(d)[e]|f\\g$^?{2} y") == "x aXbbbc+(d)[e]|f\\g$^?{2} y"


@pytest.mark.usefixtures("small_registry")
def test_the_registry_is_bounded_least_recently_registered_dropped() -> None:
    first = Secret.held("first-held-0000")
    for n in range(7):
        Secret.held(f"filler-held-{n:04}")
    Secret.held(first.reveal())  # opened again: now the most recent
    Secret.held("one-more-held-0000")
    assert registered_count() == 8
    assert redact("first-held-0000 filler-held-0000") == f"{MASK} filler-held-0000"
    assert redact("filler-held-0006") == MASK


def test_many_registered_secrets_are_all_found() -> None:
    rng = random.Random(12)
    alphabet = string.ascii_letters + string.digits + "-_"
    values = ["".join(rng.choices(alphabet, k=rng.randint(8, 40))) for _ in range(1500)]
    for value in values:
        Secret.held(value)
    for value in rng.sample(values, 50):
        assert MASK in redact(f"before {value} after")
        assert value not in redact(f"before {value} after")
    assert redact("nothing to hide here") == "nothing to hide here"
