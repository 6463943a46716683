"""A body that is not JSON at all is answered 400 (before any schema check, which is
422), and every API route that reads a body documents that 400 in its OpenAPI spec (each
route lists it in its ``responses``)."""

from __future__ import annotations

from webfixture import FreshWeb, client


async def test_every_route_with_a_body_documents_the_unreadable_body(fresh_web: FreshWeb) -> None:
    async with client(app=fresh_web.app, token=fresh_web.admin.token) as api:
        spec = (await api.get("/api/v1/openapi.json")).json()
        with_body = {
            (method.upper(), path): operation
            for path, item in spec["paths"].items()
            for method, operation in item.items()
            if "requestBody" in operation
        }
        assert ("POST", "/api/v1/clusters/{cluster}/servers/{hostname}/trust") in with_body
        undocumented = [route for route, op in with_body.items() if "400" not in op["responses"]]
        assert undocumented == []

        unreadable = await api.post(
            "/api/v1/clusters/c1/servers/h1.example.test/trust",
            content=b"\xff\x00{",
            headers={"content-type": "application/json"},
        )
        assert unreadable.status_code == 400
        assert unreadable.json()["error"] == "http_error"
