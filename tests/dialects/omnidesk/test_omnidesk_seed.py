"""Replays seed 003 (Omnidesk live chat) against the real server, with the customer's ``chatServer``
as a real HTTP server on loopback that records every hookpoint call (uploaded file bytes included).

Requests are the seed's examples, sent as the vendor's clients send them (form fields, multipart, JSON);
answers and hookpoint calls are compared whole.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from datetime import UTC, datetime
from typing import Any

import httpx
from helpline_testing import RunningServer
from omnidesk_kit import PICTURE, SEED_URL, ChatServer, ChatWorld, Hook, make_world, ticket_of
from standardwebhooks import Webhook
from websockets.sync.client import connect

from helpline.outbound.repository import Deliveries

FORM = "application/x-www-form-urlencoded"


def verify(hook: Hook, secret: str) -> None:
    """Standard Webhooks: the library signs text bodies (its verify() wants JSON); for multipart
    (binary) the same HMAC by hand."""
    webhook_id, timestamp = hook.headers["webhook-id"], hook.headers["webhook-timestamp"]
    if hook.headers["content-type"] == FORM:
        when = datetime.fromtimestamp(int(timestamp), tz=UTC)
        assert hook.headers["webhook-signature"] == Webhook(secret).sign(webhook_id, when, hook.body.decode())
        return
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{webhook_id}.{timestamp}.".encode() + hook.body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert hook.headers["webhook-signature"] == expected


def deliveries_settled(world: ChatWorld) -> list[Any]:
    found = world.server.store.read_sync(
        lambda uow: Deliveries.from_uow(uow).list(world.account_id, None, 1000)
    )
    return sorted(found, key=lambda d: d.id)


def test_a_chat_from_escalation_to_the_agent_ending_it(
    server: RunningServer, chat_server: ChatServer
) -> None:
    world = make_world(server)
    base = chat_server.url

    # The seed's escalation: the chatbot history as the first message, as URL-encoded form fields.
    history = "Bot: Hello! How can I help?\nCustomer: I want to talk to a person.\nBot: One moment please."
    ticket = ticket_of(world.message("abc-123", base, history, number=1))
    # The next message as multipart/form-data, the one after as JSON: same session, same ticket.
    fields = {
        "messageNumber": "2",
        "url": SEED_URL,
        "message": "Are you there?",
        "channelID": "8",
        "chatAccountToken": world.account_token,
        "chatSessionID": "abc-123",
        "chatServer": base,
    }
    multipart = server.client.post(
        "/api/v2/chat/notifyUserNewChatMessage", files={k: (None, v) for k, v in fields.items()}
    )
    assert ticket_of(multipart) == ticket
    as_json = server.client.post(
        "/api/v2/chat/notifyUserNewChatMessage",
        json=fields | {"messageNumber": 3, "channelID": 8, "message": "Hello?"},
    )
    assert ticket_of(as_json) == ticket

    conversation = world.conversation(ticket)
    assert conversation["state"] == "queued"
    assert conversation["origin"] == {"dialect": "omnidesk", "key": "abc-123"}
    assert conversation["extra"] == {"page_url": SEED_URL, "channel_id": 8}
    assert conversation["contact"]["attributes"] == {"page_url": SEED_URL}
    assert [m["content"] for m in world.messages(ticket)] == [history, "Are you there?", "Hello?"]

    world.presence("online")
    world.accept(ticket)
    with connect(f"{server.ws_url}/api/agent/v1/ws?api_key={world.api_key}") as socket:
        assert json.loads(socket.recv(timeout=5))["event"] == "ready"
        for event in ("startedtyping", "expandedchat", "minimizedchat", "stoppedtyping"):
            answer = server.client.post(
                "/api/v2/chat/notifyUserNewChatEvent",
                data={"chatServer": base, "chatSessionID": "abc-123", "event": event},
            )
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"type": "result", "message": "Event sent."}
        frames = [json.loads(socket.recv(timeout=5)) for _ in range(4)]
    assert [(f["event"], f["data"].get("typing", f["data"].get("activity"))) for f in frames] == [
        ("contact.typing", True),
        ("contact.activity", "chat_expanded"),
        ("contact.activity", "chat_minimized"),
        ("contact.typing", False),
    ]
    assert {f["data"]["conversation_id"] for f in frames} == {ticket}

    # The agent types, answers, sends a file; the customer sends a file; the agent ends the chat.
    for typing in (True, False):
        answer = server.client.post(
            f"/api/agent/v1/conversations/{ticket}/typing", json={"typing": typing}, headers=world.headers
        )
        assert answer.status_code == 200, answer.text
    reply = server.client.post(
        f"/api/agent/v1/conversations/{ticket}/messages",
        json={"content": "Hi, I am Ana."},
        headers=world.headers,
    )
    assert reply.status_code == 201, reply.text
    agent_file = b"\x00HELPLINE-BINARY\xff" + os.urandom(300_000)  # no signature names it, and not text
    upload = server.client.post(
        f"/api/agent/v1/conversations/{ticket}/attachments",
        files={"file": ("invoice 12.bin", agent_file, "application/octet-stream")},
        data={"content": "your invoice"},
        headers=world.headers,
    )
    assert upload.status_code == 201, upload.text

    customer_file = b"%PDF-1.4\n" + os.urandom(50_000)
    attached = server.client.post(
        "/api/v2/chat/addAttachment",
        files={"file": ("receipt.pdf", customer_file, "application/pdf")},
        data={"chatServer": base, "chatAccountToken": world.account_token, "sessionID": "abc-123"},
    )
    assert attached.status_code == 200, attached.text
    message_id = attached.json()["messageID"]
    assert isinstance(message_id, int)
    assert attached.json() == {
        "type": "result",
        "message": "Attachment uploaded.",
        "ticketID": ticket,
        "messageID": message_id,
    }
    [shown] = [m for m in world.messages(ticket) if m["id"] == message_id]
    assert (shown["direction"], shown["content"], shown["content_type"]) == ("inbound", "receipt.pdf", "file")
    served = httpx.get(shown["url"])
    assert served.status_code == 200
    assert hashlib.sha256(served.content).hexdigest() == hashlib.sha256(customer_file).hexdigest()
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["x-content-type-options"] == "nosniff"

    finished = server.client.post(f"/api/agent/v1/conversations/{ticket}/finish", headers=world.headers)
    assert finished.status_code == 200, finished.text

    hooks = chat_server.wait_for(6)
    assert [(h.path, h.fields) for h in hooks] == [
        ("/typingIndicatorForCustomer", {"Typing": "true", "SessionID": "abc-123"}),
        ("/typingIndicatorForCustomer", {"Typing": "false", "SessionID": "abc-123"}),
        (
            "/messageForCustomer",
            {"picture": PICTURE, "name": "Ana", "message": "Hi, I am Ana.", "sessionID": "abc-123"},
        ),
        ("/uploadForCustomer", {"sessionID": "abc-123"}),
        (
            "/messageForCustomer",
            {"picture": PICTURE, "name": "Ana", "message": "your invoice", "sessionID": "abc-123"},
        ),
        ("/endSession", {"sessionID": "abc-123"}),
    ]
    [uploaded] = hooks[3].files.values()
    assert list(hooks[3].files) == ["file"]
    assert (uploaded.filename, uploaded.content_type) == ("invoice 12.bin", "application/octet-stream")
    assert uploaded.sha256 == hashlib.sha256(agent_file).hexdigest()
    assert hooks[3].headers["content-type"].startswith("multipart/form-data; boundary=")
    for hook in hooks:
        assert hook.headers["webhook-id"].startswith("evt_")
        verify(hook, world.signing_secret)
    assert all(h.headers["content-type"] == FORM for h in hooks if h.path != "/uploadForCustomer")

    settled = deliveries_settled(world)
    assert [(d.path, d.state.value, d.attempts, d.last_status) for d in settled] == [
        (h.path, "succeeded", 1, 200) for h in hooks
    ]
    assert (
        server.client.get(f"/api/agent/v1/conversations/{ticket}", headers=world.headers).json()["state"]
        == "finished"
    )
    # The session has ended: a new message is refused (a new session makes a new ticket).
    late = world.message("abc-123", base, "still there?", number=4)
    assert late.status_code == 409
    assert late.json()["type"] == "error"
    assert "has ended" in late.json()["message"]
