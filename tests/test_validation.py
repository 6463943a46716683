"""Every value from a user or the inventory that reaches a server has an allow-list.

The table of :mod:`clustermgr.validation` is iterated with injection payloads:
each rule refuses each payload, and so does every model boundary the table
names.  A model field that carries text to a server without a rule, or a job
kind whose params do, fails here until it is listed.
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from pydantic import AfterValidator, BaseModel, ValidationError

from clustermgr.components.registry import COMPONENTS
from clustermgr.errors import InvalidInput
from clustermgr.inventory.schemas import ServerSpec
from clustermgr.redact import Secret
from clustermgr.topology import Role
from clustermgr.validation import (
    CHOICE,
    EXAMPLE_KEY,
    INPUTS,
    RULES,
    SECRET,
    Input,
    Rule,
    checked,
    checked_secret,
    host_port,
    validate_address,
    validate_cluster_name,
    validate_hostname,
    validate_ssh_user,
    validate_webhook_url,
)

PAYLOADS = (
    ";",
    "{",
    "}",
    "'",
    '"',
    "\n",
    "\r",
    "\0",
    "$(id)",
    "`id`",
    " ",
    "\t",
    "..",
    "#",
    "; } server { listen 9999; }",
)

#: Good values for the other fields of a boundary, so only the one probed is wrong.
SPEC = {
    "cluster": "prod-1",
    "hostname": "idp1.example.org",
    "address": "192.0.2.10",
    "role": "identity",
    "ssh_port": 22,
    "ssh_user": "root",
}
REQUIRED: dict[str, dict[str, Any]] = {
    "InstallSettings": {
        "organization": "Acme",
        "city": "Austin",
        "state": "TX",
        "country": "US",
        "admin_email": "admin@example.org",
        "version": "4.5.0-1",
        "repository_url": "https://repo.example.org/gluu",
        "repository_key": EXAMPLE_KEY,
    },
    "NodeParams": {"node": "idp1.example.org"},
    "ReinitParams": {"node": "idp1.example.org", "source": "idp2.example.org"},
    "ChannelSpec": {"name": "ops-mail"},
    "EmailSettings": {
        "host": "smtp.example.org",
        "sender": "clustermgr@example.org",
        "recipients": ["ops@example.org"],
    },
    "WebhookSettings": {"url": "https://hooks.example.org/services/T0"},
}
#: Text fields of boundary models that never reach a server as text, and why.
NOT_WRITTEN = {
    "clustermgr.inventory.schemas:ClusterSettings.components": (
        "each section is read by its component's own settings model, listed here"
    ),
}


def variants(rule: Rule, payload: str) -> list[object]:
    """``payload`` alone, inside a good value, and at either end of it."""
    if not isinstance(rule.example, str):
        return [payload]
    good = rule.example
    middle = len(good) // 2
    return [payload, good[:middle] + payload + good[middle:], good + payload, payload + good]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_every_rule_accepts_its_example_as_it_is(rule: Rule) -> None:
    assert rule.check(rule.example) == rule.example
    assert checked(rule, rule.example) == rule.example


@pytest.mark.parametrize("payload", PAYLOADS, ids=repr)
@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_every_rule_refuses_every_payload(rule: Rule, payload: str) -> None:
    if set(payload) <= set(rule.allows):
        # Accepted on purpose inside a value (a name's spaces); alone, still refused.
        with pytest.raises(InvalidInput):
            rule.check(payload)
        return
    for value in variants(rule, payload):
        # The boundary refuses it, or trims it back to the good value (spaces, a final dot).
        try:
            canonical = rule.check(value)
        except InvalidInput:
            pass
        else:
            assert canonical == rule.example, f"{rule.name} accepted {value!r}"
        # A renderer refuses anything not exactly canonical.
        with pytest.raises(InvalidInput, match="refusing to write to a server"):
            checked(rule, value)


def test_a_refused_secret_is_never_shown() -> None:
    with pytest.raises(InvalidInput) as refused:
        checked_secret(Secret("s3cret\nrequirepass x", label="t"))
    assert "s3cret" not in str(refused.value) and "s3cret" not in (refused.value.hint or "")
    with pytest.raises(InvalidInput) as refused:
        checked(SECRET, "s3cret x")
    assert "s3cret" not in str(refused.value)


@pytest.mark.parametrize(
    ("check", "value"),
    [
        # Each passed before: ``$`` matches before a final newline, a zone is any text.
        (validate_hostname, "idp1\n.example.org"),
        (validate_hostname, "idp1.example.org\n"),
        (validate_cluster_name, "prod\n"),
        (validate_ssh_user, "root\n"),
        (validate_address, "fe80::1%eth0; } server { listen 9999; }"),
        (validate_address, "[fe80::1%eth0]"),
    ],
)
def test_newlines_and_zones_are_refused(check: Any, value: str) -> None:
    with pytest.raises(InvalidInput):
        check(value)


def test_webhook_urls_keep_a_query_and_refuse_what_a_request_line_cannot_carry() -> None:
    good = "https://hooks.example.org/services/T0/B1?token=a-b_c%2F"
    assert validate_webhook_url(good) == good
    assert validate_webhook_url("http://[::1]:8080/hook") == "http://[::1]:8080/hook"
    for bad in ("ftp://x.example.org/", "https://x.example.org/a b", "https://x/../y", "https://"):
        with pytest.raises(InvalidInput):
            validate_webhook_url(bad)


def test_ipv6_addresses_are_bracketed_with_a_port() -> None:
    assert validate_address("[2001:DB8::1]") == "2001:db8::1"
    assert host_port("2001:db8::1", 443) == "[2001:db8::1]:443"
    assert host_port("192.0.2.1", 443) == "192.0.2.1:443"
    assert host_port("idp1.example.org", 443) == "idp1.example.org:443"


# --- the model boundaries the table names ------------------------------------------------


def resolve(ref: str) -> tuple[type[Any], str]:
    module, _, path = ref.partition(":")
    model, _, field = path.partition(".")
    found: type[Any] = getattr(importlib.import_module(module), model)
    return found, field


def _bare(annotation: Any) -> Any:
    """``annotation`` without ``| None``."""
    if get_origin(annotation) in (Union, types.UnionType):
        (inner,) = [a for a in get_args(annotation) if a is not type(None)]
        return inner
    return annotation


def _enum_in(annotation: Any) -> type[Enum] | None:
    for arg in (annotation, *get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, Enum):
            return arg
    return None


def shaped(model: type[BaseModel], field: str, value: object) -> object:
    """``value`` where the field holds it: alone, in a list, or as a mapping's key."""
    annotation = _bare(model.model_fields[field].annotation)
    if get_origin(annotation) is list:
        return [value]
    if get_origin(annotation) is dict:
        enum = _enum_in(get_args(annotation)[1])
        assert enum is not None
        return {value: next(iter(enum)).value}
    return value


def good_value(model: type[BaseModel], field: str, rule: Rule) -> object:
    """The rule's example, or the first name of the field's own set (an enum)."""
    annotation = _bare(model.model_fields[field].annotation)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return next(iter(annotation)).value
    return rule.example


def refuses(target: type[Any], field: str, value: object) -> bool:
    if target is ServerSpec:
        try:
            ServerSpec.parse(**{**SPEC, field: value})  # type: ignore[arg-type]
        except InvalidInput:
            return True
        return False
    assert issubclass(target, BaseModel)
    try:
        target.model_validate({**REQUIRED.get(target.__name__, {}), field: value})
    except ValidationError as exc:
        assert {e["loc"][0] for e in exc.errors()} == {field}, exc
        return True
    return False


BOUNDARIES = [(i, ref) for i in INPUTS for ref in i.accepted]


@pytest.mark.parametrize(("entry", "ref"), BOUNDARIES, ids=[r for _, r in BOUNDARIES])
def test_every_boundary_refuses_every_payload_and_takes_a_good_value(
    entry: Input, ref: str
) -> None:
    target, field = resolve(ref)
    shape: Callable[[object], object]
    if target is ServerSpec:
        base = SPEC[field]
        shape = lambda v: v  # noqa: E731
    else:
        base = good_value(target, field, entry.rule)
        shape = lambda v: shaped(target, field, v)  # noqa: E731
    assert not refuses(target, field, shape(base)), f"{ref} refused {base!r}"
    for payload in PAYLOADS:
        values: list[object] = [payload]
        if isinstance(base, str) and not set(payload) <= set(entry.rule.allows):
            middle = len(base) // 2
            values.append(base[:middle] + payload + base[middle:])
        for value in values:
            assert refuses(target, field, shape(value)), f"{ref} took {value!r}"


def test_server_spec_built_by_hand_is_checked_too() -> None:
    with pytest.raises(InvalidInput, match="refusing to write"):
        ServerSpec("prod", "idp1\n.example.org", "192.0.2.1", Role.IDENTITY)
    with pytest.raises(InvalidInput, match="refusing to write"):
        ServerSpec("prod", "idp1.example.org", "192.0.2.1; x", Role.IDENTITY)


# --- completeness: no text reaches a server from a model without a rule ---------------------


def _leaves(annotation: Any, metadata: tuple[Any, ...] = ()) -> list[tuple[Any, tuple[Any, ...]]]:
    """The leaf types of ``annotation`` with the ``Annotated`` metadata around each."""
    if get_origin(annotation) is Annotated:
        base, *more = get_args(annotation)
        return _leaves(base, (*metadata, *more))
    args = get_args(annotation)
    if args and annotation is not Any:
        return [leaf for arg in args for leaf in _leaves(arg, metadata if len(args) == 1 else ())]
    return [(annotation, metadata)]


def _rule_of(metadata: tuple[Any, ...]) -> Rule | None:
    for item in metadata:
        owner = getattr(item.func, "__self__", None) if isinstance(item, AfterValidator) else None
        if isinstance(owner, Rule) and owner in RULES:
            return owner
    return None


def boundary_models() -> set[type[BaseModel]]:
    models: set[type[BaseModel]] = set()
    for ref, _ in [(r, i) for i in INPUTS for r in i.accepted]:
        target, _ = resolve(ref)
        if issubclass(target, BaseModel):
            models.add(target)
    for component in COMPONENTS:
        models |= {kind.params for kind in component.job_kinds()}
    return models


def test_every_text_field_of_a_boundary_model_is_listed_with_its_rule() -> None:
    listed = {ref for i in INPUTS for ref in i.accepted}
    unlisted, unruled = [], []
    for model in sorted(boundary_models(), key=lambda m: m.__name__):
        for name, info in model.model_fields.items():
            ref = f"{model.__module__}:{model.__name__}.{name}"
            if ref in NOT_WRITTEN:
                continue
            leaves = _leaves(info.annotation, tuple(info.metadata))
            texts = [(t, m) for t, m in leaves if t is str]
            enums = [t for t, _ in leaves if isinstance(t, type) and issubclass(t, Enum)]
            if not texts and not enums:
                continue
            if ref not in listed:
                unlisted.append(ref)
                continue
            for _, metadata in texts:
                if _rule_of(metadata) is None:
                    unruled.append(f"{ref}: text without a rule")
            for enum in enums:
                for member in enum:
                    checked(CHOICE, member.value)  # each name of the set is a plain token
    assert not unlisted, f"add to clustermgr.validation.INPUTS: {unlisted}"
    assert not unruled, unruled


def test_every_role_is_a_plain_name() -> None:
    for role in Role:
        checked(CHOICE, role.value)
