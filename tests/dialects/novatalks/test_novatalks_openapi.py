"""The server publishes its own OpenAPI document of the SDK API, listed at ``/``."""

from __future__ import annotations

from novatalks_kit import SdkWorld


def test_the_sdk_document_is_published(world: SdkWorld) -> None:
    index = world.server.client.get("/").json()
    assert any(url.endswith("/openapi/novatalks-sdk.json") for url in index["openapi"])
    document = world.server.client.get("/openapi/novatalks-sdk.json").json()
    assert document["openapi"] == "3.1.0"
    vendor_paths = set(world.schema.document["paths"])
    assert vendor_paths <= set(document["paths"])  # every path of the vendor's schema, and more
    assert {
        "/api/v1/sdk/conversations/messages/{id}/interactive-attribute",
        "/api/v1/sdk/conversations/messages/{id}/reactions",
        "/api/v1/sdk/conversations/messages/{id}",
        "/api/v1/sdk/notifications",
        "/api/v1/sdk/notifications/{push_token}",
    } <= set(document["paths"])
    assert document["components"]["securitySchemes"]["access_token"]["in"] == "header"
    create = document["paths"]["/api/v1/sdk/conversations"]["post"]
    assert "security" not in create
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "CreateConversation"
    )
    assert document["components"]["schemas"]["CreateConversation"]["required"] == ["name"]
