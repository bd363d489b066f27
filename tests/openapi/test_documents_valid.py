"""Every OpenAPI document the server lists is a valid OpenAPI document (openapi-spec-validator)."""

from __future__ import annotations

from helpline_testing import RunningServer
from openapi_spec_validator import validate


def test_every_served_document_validates(server: RunningServer) -> None:
    listed = server.client.get("/").json()["openapi"]
    assert len(listed) == 7
    for url in listed:
        document = server.client.get(url).json()
        validate(document)
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                successes = [code for code in operation["responses"] if code.startswith("2")]
                assert successes, (url, method, path)


def test_the_native_documents_describe_every_answer(server: RunningServer) -> None:
    """No success of the agent or admin API is an untyped object: a generated client gets typed answers."""
    for name in ("agent", "admin"):
        document = server.client.get(f"/openapi/{name}.json").json()
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                for code, response in operation["responses"].items():
                    if code.startswith("2"):
                        schema = response["content"]["application/json"]["schema"]
                        assert schema != {"type": "object"}, (name, method, path)
                        assert "$ref" in schema, (name, method, path)
