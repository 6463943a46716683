"""The README's claims that are settings or job params, checked against the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from clustermgr.components import registry
from clustermgr.errors import InvalidInput
from clustermgr.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
#: Environment variables of the CLI's remote commands, not settings of the manager.
CLIENT_VARIABLES = {"CLUSTERMGR_URL", "CLUSTERMGR_TOKEN"}


def env_name(field: str) -> str:
    prefix = str(Settings.model_config.get("env_prefix", ""))
    return (prefix + field).upper()


def test_every_setting_is_documented() -> None:
    missing = [env_name(f) for f in Settings.model_fields if env_name(f) not in README]
    assert not missing, f"settings missing from the README: {missing}"


def test_every_documented_variable_exists() -> None:
    known = {env_name(f) for f in Settings.model_fields} | CLIENT_VARIABLES
    documented = set(re.findall(r"CLUSTERMGR_[A-Z_]+", README))
    assert documented <= known, f"the README names unknown settings: {documented - known}"


def _paragraphs() -> list[str]:
    return [p for p in re.split(r"\n\s*\n", README) if "params" in p]


def _params_examples() -> list[tuple[str, dict[str, object]]]:
    """(paragraph, params) for every ``params `{...}``` example of the README."""
    found = []
    for paragraph in _paragraphs():
        flat = " ".join(paragraph.split())
        for raw in re.findall(r"params\s+`(\{[^`]*\})`", flat):
            # Placeholders in capitals (HOST) stand for a host name.
            text = re.sub(r":\s*([A-Z][A-Z_]*)\b(?!\")", r': "idp1.example.org"', raw)
            found.append((flat, json.loads(text)))
    return found


def test_the_readme_shows_job_params() -> None:
    assert len(_params_examples()) >= 2


@pytest.mark.parametrize(("paragraph", "params"), _params_examples())
def test_every_documented_job_param_is_accepted(paragraph: str, params: dict[str, object]) -> None:
    """Some job kind named in the same paragraph takes the params the README shows."""
    kinds = registry.job_kinds()
    named = [k for k in kinds if re.search(rf"`{re.escape(k.name)}`", paragraph)]
    assert named, f"no job kind named near params {params}"
    accepted = []
    for kind in named:
        try:
            kind.parse(params)
        except InvalidInput:
            continue
        accepted.append(kind.name)
    assert accepted, f"no kind of {[k.name for k in named]} accepts {params}"


def test_every_job_kind_the_readme_names_exists() -> None:
    kinds = registry.job_kinds()
    # "job kind `x`" and "job kinds `x`, `y`, `z`": the names listed right after it.
    listings = re.findall(r"job kinds? ((?:`[a-z-]+`(?:,? (?:and )?)?)+)", " ".join(README.split()))
    named = {name for listing in listings for name in re.findall(r"`([a-z-]+)`", listing)}
    assert named, "the README names job kinds"
    assert named <= set(kinds.names), f"unknown job kinds in the README: {named - set(kinds.names)}"
