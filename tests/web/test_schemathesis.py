"""Property-based tests of the REST API from its own OpenAPI spec (schemathesis).

The manager runs as a real ``clustermgr serve`` on a data dir of its own with
one empty cluster (``demo``, no servers) and one finished job, so generated
requests meet real rows and never reach a server.  Every answer must be a
documented status code with a body matching its documented schema, never a 5xx.

Excluded: ``POST /api/v1/servers``: it dials the address in the body (an SSH
host-key scan), and generated addresses are arbitrary hosts; the tests may
contact only loopback and the lab.  Its documented answers are covered by
test_api.py against the lab.  ``POST /api/v1/notify/channels/{name}/test`` too:
it sends to the channel's relay or receiver, whatever host a generated channel
names (test_api_notify.py covers it against receivers on 127.0.0.1).  And
``GET /api/v1/clusters/{name}/logs/tail``: a live tail never ends by itself
(tests/components/logs/test_api.py reads it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from clustermgr.core.manager import Manager
from clustermgr.services import clusters
from clustermgr.settings import Settings
from polling import eventually
from webfixture import BodyLog, ManagerProcess, WebUser, create_user, free_port

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 12
EMPTY_CLUSTER = "demo"


@pytest.fixture(scope="session")
async def spec_manager(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[str, WebUser]]:
    """A real manager with an admin, an empty cluster and one finished job."""
    base = tmp_path_factory.mktemp("schemathesis")
    settings = Settings(data_dir=base / "manager", connect_timeout=2, command_timeout=10)
    admin = await create_user(settings)
    manager = await Manager.open(settings)
    try:
        await clusters.create_cluster(manager, EMPTY_CLUSTER)
    finally:
        await manager.close()
    server = ManagerProcess(settings, free_port(), Path(base / "serve.log"))
    server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=admin.auth_header) as http:
            job = (
                await http.post("/api/v1/jobs", json={"kind": "plan", "cluster": EMPTY_CLUSTER})
            ).json()

            async def state() -> str:
                answer = await http.get(f"/api/v1/jobs/{job['id']}")
                return str(answer.json()["state"])

            await eventually(
                state,
                until=lambda s: s not in ("queued", "running"),
                timeout=30,
                interval=0.2,
                what="the plan of an empty cluster hangs",
            )
        yield server.url, admin
    finally:
        server.stop()


@pytest.fixture(scope="session")
def api_schema(spec_manager: tuple[str, WebUser]) -> Any:
    url, admin = spec_manager
    schema = schemathesis.openapi.from_url(
        f"{url}/api/v1/openapi.json", headers=admin.auth_header, timeout=10
    )
    return schema


@pytest.fixture(scope="session")
def auth_header(spec_manager: tuple[str, WebUser]) -> dict[str, str]:
    return spec_manager[1].auth_header


schema = (
    schemathesis.pytest.from_fixture("api_schema")
    .exclude(path="/api/v1/servers", method="POST")
    .exclude(path="/api/v1/notify/channels/{name}/test", method="POST")
    .exclude(path="/api/v1/clusters/{name}/logs/tail", method="GET")
)
#: Not checked: `positive_data_acceptance` (a request valid by the schema may
#: still be refused: the services check names, keys and existence beyond what
#: the schema can say, answering a documented 400/404/409) and
#: `negative_data_rejection` (FastAPI takes the last of repeated query values).
EXCLUDED_CHECKS = [
    schemathesis.checks.positive_data_acceptance,
    schemathesis.checks.negative_data_rejection,
]


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_spec(
    case: Any, auth_header: dict[str, str], body_log: BodyLog
) -> None:
    response = case.call_and_validate(
        headers=auth_header, timeout=30, excluded_checks=EXCLUDED_CHECKS
    )
    body_log.add(response.text)


def test_the_spec_documents_auth_and_errors(
    api_schema: Any, spec_manager: tuple[str, WebUser]
) -> None:
    url, admin = spec_manager
    spec = httpx.get(f"{url}/api/v1/openapi.json", headers=admin.auth_header).json()
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "503"} <= codes, f"{method} {path}"
            if method in ("post", "delete") or "{" in path:
                assert "422" in codes, f"{method} {path}"
    assert "ServerCreate" in spec["components"]["schemas"]
    assert "ServerPublic" in spec["components"]["schemas"]
