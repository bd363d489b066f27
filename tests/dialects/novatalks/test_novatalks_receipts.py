"""Receipts: agents' messages start ``sent``, the contact marks them ``delivered``/``seen`` and the agent
sees it live; an agent reading the conversation marks the contact's messages ``seen`` and the contact
sees ``message.updated``."""

from __future__ import annotations

import json
import time
from typing import Any

from novatalks_kit import Contact, SdkWorld, subscribed
from websockets.sync.client import connect


def ready(world: SdkWorld) -> Contact:
    contact = world.open()
    world.go_online()
    world.accept(contact.conversation_id)
    return contact


def mark(world: SdkWorld, contact: Contact, status: str, ids: list[int]) -> Any:
    return world.api.patch(
        "/api/v1/sdk/conversations/messages/status",
        json={"status": status, "messageIds": ids},
        headers=contact.headers,
    )


def agent_updates(socket: Any, count: int, timeout: float = 5.0) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    deadline = time.monotonic() + timeout
    while len(found) < count:
        frame = json.loads(socket.recv(timeout=max(0.01, deadline - time.monotonic())))
        if frame["event"] == "message.updated":
            found.append((frame["data"]["message"]["id"], frame["data"]["message"]["status"]))
    return found


def test_the_agent_sees_delivered_then_seen_live(world: SdkWorld) -> None:
    contact = ready(world)
    with connect(f"{world.server.ws_url}/api/agent/v1/ws?api_key={world.api_key}", open_timeout=5) as agent:
        first = world.agent_says(contact.conversation_id, "one")
        second = world.agent_says(contact.conversation_id, "two")
        assert [m["status"] for m in world.messages(contact)] == ["sent", "sent"]
        assert mark(world, contact, "delivered", [first["id"], second["id"]]).status_code == 200
        assert mark(world, contact, "seen", [first["id"]]).status_code == 200
        assert agent_updates(agent, 3) == [
            (first["id"], "delivered"),
            (second["id"], "delivered"),
            (first["id"], "seen"),
        ]
        # Going back, or saying the same again, changes nothing and announces nothing.
        assert mark(world, contact, "delivered", [first["id"]]).status_code == 200
        assert mark(world, contact, "sent", [second["id"]]).status_code == 200
        assert mark(world, contact, "failed", [second["id"]]).status_code == 200
        assert agent_updates(agent, 1) == [(second["id"], "failed")]
    listed = world.server.client.get(
        f"/api/agent/v1/conversations/{contact.conversation_id}/messages", headers=world.agent
    ).json()["messages"]
    assert [(m["id"], m["status"]) for m in listed] == [(first["id"], "seen"), (second["id"], "failed")]


def test_the_contacts_own_messages_are_not_marked_by_the_contact(world: SdkWorld) -> None:
    contact = ready(world)
    world.say(contact, "mine", "e1")
    [mine] = world.messages(contact)
    assert mark(world, contact, "seen", [mine["id"]]).status_code == 200
    assert world.messages(contact)[0]["status"] == "sent"


def test_the_agent_reading_marks_the_contacts_messages_seen(world: SdkWorld) -> None:
    contact = ready(world)
    for n in range(3):
        world.say(contact, f"question {n}", f"q{n}")
    ids = [m["id"] for m in world.messages(contact)]
    with subscribed(world, contact) as socket:
        read = world.server.client.post(
            f"/api/agent/v1/conversations/{contact.conversation_id}/seen",
            json={"up_to": ids[1]},
            headers=world.agent,
        )
        assert read.json() == {"seen": ids[:2]}
        updates = [socket.until("message.updated")["data"] for _ in range(2)]
        assert [(u["id"], u["status"]) for u in updates] == [(ids[0], "seen"), (ids[1], "seen")]
        rest = world.server.client.post(
            f"/api/agent/v1/conversations/{contact.conversation_id}/seen", headers=world.agent
        )
        assert rest.json() == {"seen": [ids[2]]}
        assert socket.until("message.updated")["data"]["id"] == ids[2]
        again = world.server.client.post(
            f"/api/agent/v1/conversations/{contact.conversation_id}/seen", headers=world.agent
        )
        assert again.json() == {"seen": []}
        assert socket.quiet(0.4) == []
    assert [m["status"] for m in world.messages(contact)] == ["seen", "seen", "seen"]


def test_marking_up_to_a_message_of_another_conversation_is_refused(world: SdkWorld) -> None:
    contact, other = ready(world), world.open("other")
    world.say(other, "elsewhere", "x")
    [foreign] = world.messages(other)
    refused = world.server.client.post(
        f"/api/agent/v1/conversations/{contact.conversation_id}/seen",
        json={"up_to": foreign["id"]},
        headers=world.agent,
    )
    assert refused.status_code == 404
    assert world.messages(other)[0]["status"] == "sent"
