"""Every answer of the agent API is what its OpenAPI document says (read into the response types with
unknown fields forbidden), and a message is the same on the REST API and on the websocket."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from helpline_testing import RunningServer
from websockets.sync.client import connect

from helpline.agent_api import responses as out

AGENT = "/api/agent/v1"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def typed(answer: Any, kind: type[Any], status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return msgspec.convert(answer.json(), kind)


def test_every_answer_fits_its_documented_type(server: RunningServer) -> None:
    setup = server.setup_account()
    other = server.add_department(setup["account_id"], "Sales")
    client = server.client
    logged = typed(
        client.post(
            f"{AGENT}/login", json={"email": f"ana{setup['account_id']}@acme.test", "password": "s3cret"}
        ),
        out.LoggedIn,
    )
    headers = server.agent_headers(logged.api_key)
    signed = client.post(f"{AGENT}/session", json={"email": logged.agent.email, "password": "s3cret"})
    typed(signed, out.SignedIn)
    cookie = f"helpline_session={signed.cookies['helpline_session']}"
    typed(client.delete(f"{AGENT}/session", headers={"cookie": cookie}), out.SignedOut)
    typed(client.get(f"{AGENT}/me", headers=headers), out.AgentView)
    typed(client.put(f"{AGENT}/presence", json={"status": "online"}, headers=headers), out.AgentView)
    typed(client.get(f"{AGENT}/departments", headers=headers), out.Departments)
    typed(client.get(f"{AGENT}/agents", headers=headers), out.Directory)
    typed(client.get(f"{AGENT}/limits", headers=headers), out.Limits)
    started = client.post(
        "/api/v1/interactions",
        json={"token": setup["token"], "department_id": setup["department_id"], "customer": {"name": "Joao"}},
    ).json()["data"]["interaction_hash"]
    client.post(f"/api/v1/interactions/{started}/messages", json={"token": setup["token"], "content": "oi"})
    listed = typed(
        client.get(f"{AGENT}/conversations", params={"status": "queued"}, headers=headers), out.Conversations
    )
    assert [c.hash for c in listed.conversations] == [started]
    typed(client.get(f"{AGENT}/conversations/{started}", headers=headers), out.Conversation)
    accepted = typed(
        client.post(f"{AGENT}/conversations/{started}/accept", headers=headers), out.Conversation
    )
    assert accepted.contact is not None
    assert accepted.contact.name == "Joao"
    sent = typed(
        client.post(f"{AGENT}/conversations/{started}/messages", json={"content": "hello"}, headers=headers),
        out.Message,
        201,
    )
    typed(
        client.post(f"{AGENT}/conversations/{started}/typing", json={"typing": True}, headers=headers),
        out.TypingAnswer,
    )
    typed(client.post(f"{AGENT}/conversations/{started}/delivered", json={}, headers=headers), out.Delivered)
    typed(client.post(f"{AGENT}/conversations/{started}/seen", json={}, headers=headers), out.Seen)
    typed(
        client.post(
            f"{AGENT}/conversations/{started}/attachments",
            files={"file": ("dot.png", PNG, "image/png")},
            data={"content": "a dot"},
            headers=headers,
        ),
        out.SentFile,
        201,
    )
    page = typed(client.get(f"{AGENT}/conversations/{started}/messages", headers=headers), out.Messages)
    items = [msgspec.convert(m, out.HistoryItem if m["history"] else out.Message) for m in page.messages]
    assert sent in items
    finished = typed(
        client.post(f"{AGENT}/conversations/{started}/finish", headers=headers), out.Conversation
    )
    assert finished.contact is not None
    assert finished.state == "finished"
    second = client.post(
        "/api/v1/interactions",
        json={
            "token": setup["token"],
            "department_id": setup["department_id"],
            "customer": {"name": "Maria"},
        },
    ).json()["data"]["interaction_hash"]
    moved = typed(
        client.post(
            f"{AGENT}/conversations/{second}/transfer", json={"department_id": other}, headers=headers
        ),
        out.Conversation,
    )
    assert moved.contact is not None
    assert moved.contact.name == "Maria"


def test_a_message_is_the_same_on_rest_and_on_the_websocket(server: RunningServer) -> None:
    setup = server.setup_account()
    headers = server.agent_headers(setup["api_key"])
    started = server.client.post(
        "/api/v1/interactions", json={"token": setup["token"], "department_id": setup["department_id"]}
    ).json()["data"]["interaction_hash"]
    server.client.post(f"{AGENT}/conversations/{started}/accept", headers=headers)
    with connect(f"{server.ws_url}{AGENT}/ws?api_key={setup['api_key']}") as socket:
        assert json.loads(socket.recv(timeout=5))["event"] == "ready"
        answer = server.client.post(
            f"{AGENT}/conversations/{started}/messages",
            json={"content": "hello", "content_type": "text"},
            headers=headers,
        ).json()
        while (frame := json.loads(socket.recv(timeout=5)))["event"] != "message.created":
            pass
    live = frame["data"]["message"]
    msgspec.convert(live, out.Message)
    assert live["sender"]["name"] == "Ana"
    assert live == answer
