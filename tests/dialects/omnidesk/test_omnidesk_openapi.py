"""The Omnidesk dialect's OpenAPI document is served and lists every endpoint with its body forms."""

from __future__ import annotations

from helpline_testing import RunningServer


def test_the_omnidesk_document_is_served_and_listed(server: RunningServer) -> None:
    index = server.client.get("/").json()
    assert f"{server.url}/openapi/omnidesk.json" in index["openapi"]
    doc = server.client.get("/openapi/omnidesk.json").json()
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == {
        "/api/v2/chat/notifyUserNewChatMessage",
        "/api/v2/chat/addAttachment",
        "/api/v2/chat/notifyUserNewChatEvent",
        "/api/v2/message/notifyUserEndChat",
        "/requestChatConfig",
        "/api/v2/chat/requestChatConfig",
        "/api/v2/message/chatbot",
    }
    message = doc["paths"]["/api/v2/chat/notifyUserNewChatMessage"]["post"]
    assert set(message["requestBody"]["content"]) == {
        "application/json",
        "multipart/form-data",
        "application/x-www-form-urlencoded",
    }
    schema = doc["components"]["schemas"]["NewChatMessage"]
    assert set(schema["required"]) == {
        "chatAccountToken",
        "chatSessionID",
        "chatServer",
        "message",
        "url",
        "channelID",
    }
    assert "from" in doc["components"]["schemas"]["ChatbotLog"]["properties"]
    upload = doc["paths"]["/api/v2/chat/addAttachment"]["post"]["requestBody"]["content"]
    assert list(upload) == ["multipart/form-data"]
    assert doc["paths"]["/requestChatConfig"]["get"]["parameters"][0]["name"] == "chatAccountToken"
