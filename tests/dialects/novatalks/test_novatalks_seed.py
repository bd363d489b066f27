"""Replays every example of seed 004 (Novatalks SDK) against the real server.

Requests are the seed's (its ids and tokens replaced by those the server gave); every answer is checked
against the vendor's OpenAPI schema by the client (``novatalks_kit.SdkClient``), and compared with the
seed's example: the same keys, the same kinds of values, the same words where the seed fixes them.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from novatalks_kit import SCHEMA_FILE, UUID, VENDOR_SCHEMA_SHA256, SdkWorld, subscribed

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(9473 - 16)
TOKEN = re.compile(r"^[A-Za-z0-9]{22}$")

SEED_CREATED = {
    "payload": {
        "contact": {
            "id": 36,
            "name": "sdk-contact-494",
            "email": None,
            "phone_number": None,
            "custom_attributes": {},
        },
        "contactInbox": {"pubsubToken": "kJGO53QxaEuhHaOU3h5Dc5"},
        "account_id": 1,
        "conversation": {"id": 27, "status": "resolved"},
    }
}
SEED_AGENT_MESSAGE = {
    "account_id": 1,
    "id": 8326,
    "content": "hello",
    "message_type": "outgoing",
    "content_type": "text",
    "private": False,
    "content_attributes": {},
    "source_id": None,
    "external_source_ids": {},
    "inbox_id": 5,
    "sender_id": 1,
    "status": "sent",
    "pinned": False,
    "conversation_id": 27,
    "echo_id": "fad29d60472f",
    "dialog_id": "3181f2ce-2f84-438f-a04b-b97e794ba7e7",
    "attachments": [],
    "sender": {"id": 1, "name": "Support", "display_name": "", "avatar_url": None},
    "created_at": 1745404967805,
}
SEED_CONTACT_MESSAGE = SEED_AGENT_MESSAGE | {
    "id": 8330,
    "message_type": "incoming",
    "sender_id": 36,
    "echo_id": "589",
    "sender": {"id": 36, "name": "sdk-contact-494", "avatar_url": None},
}
SEED_ATTACHMENT = {
    "id": 41,
    "message_id": 8333,
    "account_id": 1,
    "file_type": "image",
    "fallback_title": None,
    "extension": None,
    "data_url": "https://store-url/store/30cbe6ea7db5752885bc5/telegram.png",
    "thumb_url": "https://store-url/store/30cbe6ea7db5752885bc5/telegram.png",
    "file_size": 9473,
}
SEED_REPLY = {
    "id": 3726,
    "sender": {"id": 244, "name": "sdk-1", "display_name": None, "avatar_url": None},
    "message_type": "incoming",
    "content_type": "text",
    "attachments": [SEED_ATTACHMENT],
    "created_at": 1747090960816,
}
SEED_STATUS_CHANGED = {
    "account_id": 1,
    "id": 28,
    "inbox_id": 5,
    "inbox": {
        "id": 5,
        "name": "Demo",
        "additional_settings": {
            "autoanswer": True,
            "utilization": 20,
            "wrapup_code": False,
            "wrapup_timeout": 30,
            "alerting_timeout": 30,
            "conversation_type": "chat",
            "auto_assignment_limit": 5,
        },
    },
    "status": "open",
    "substatus": "oninbox",
    "priority": 5,
    "subpriority": 0,
    "assignee_id": None,
    "team_id": None,
    "channel": "Sdk",
    "additional_attributes": {"chatId": None, "contactSource": "chat"},
    "custom_attributes": {},
    "dialog_id": "48f195c1-b9ff-4ee5-85ec-9031aed264ef",
    "messages": [],
    "meta": {
        "sender": {
            "additional_attributes": {},
            "custom_attributes": {},
            "email": None,
            "id": 37,
            "identifier": "1ReoP6Le5GFuP5xKDOSwHD",
            "name": "sdk-contact-67",
            "phone_number": None,
            "thumbnail": "",
            "type": "contact",
            "labels": [],
            "avatar_url": None,
        },
        "assignee": None,
        "team": None,
        "labels": [],
        "mentions": [],
    },
    "labels": [],
    "can_reply": True,
    "snoozed_until": None,
    "agent_last_seen_at": 0,
    "contact_last_seen_at": 0,
    "timestamp": 1745404967805,
    "created_at": 1745404967805,
    "session": None,
    "source_id": None,
}
SEED_CARD = {
    "content_type": "card",
    "content": "Explore the Mountains",
    "content_attributes": {
        "image_url": "https://example.com/images/alps.jpg",
        "buttons": [
            {"type": "link", "title": "View Details", "url": "https://example.com/trips/alps"},
            {"type": "postback", "title": "Book Now", "value": "BOOK_ALPS_TRIP"},
        ],
    },
}
SEED_LINK = {
    "content_type": "card",
    "content": "Explore the Mountains",
    "content_attributes": {
        "buttons": [{"type": "link", "title": "View Details", "url": "https://example.com/trips/alps"}]
    },
}
SEED_FEEDBACK = {
    "content_type": "feedback",
    "content": "How would you rate your experience?",
    "content_attributes": {"selected_value": None},
}
SEED_QUICK_REPLY = {
    "content_type": "quick_reply",
    "content": "How would you rate your experience?",
    "content_attributes": {
        "image_url": "https://example.com/images/alps.jpg",
        "buttons": [
            {"title": "Standard (3–5 days)", "value": "SHIP_STANDARD"},  # noqa: RUF001 - the seed's dash
            {"title": "Express (1–2 days)", "value": "SHIP_EXPRESS"},  # noqa: RUF001
            {"title": "Overnight", "value": "SHIP_OVERNIGHT"},
        ],
        "selected_value": None,
    },
}


def same_shape(seed: Any, ours: Any, where: str = "$") -> None:
    """Every key of the seed's example is there, holding the same kind of value (null: anything)."""
    if seed is None:
        return
    if isinstance(seed, dict):
        assert isinstance(ours, dict), f"{where}: expected an object, got {ours!r}"
        missing = set(seed) - set(ours)
        assert not missing, f"{where}: missing {sorted(missing)}"
        for key, value in seed.items():
            same_shape(value, ours[key], f"{where}.{key}")
    elif isinstance(seed, list):
        assert isinstance(ours, list), f"{where}: expected a list, got {ours!r}"
        if seed:
            for index, item in enumerate(ours):
                same_shape(seed[0], item, f"{where}[{index}]")
    elif isinstance(seed, bool):
        assert isinstance(ours, bool), f"{where}: expected a boolean, got {ours!r}"
    elif isinstance(seed, int):
        assert isinstance(ours, int), f"{where}: expected an integer, got {ours!r}"
        assert not isinstance(ours, bool), f"{where}: expected an integer, got {ours!r}"
    else:
        assert isinstance(ours, type(seed)), f"{where}: expected {type(seed).__name__}, got {ours!r}"


def test_the_schema_copy_is_the_vendors() -> None:
    assert hashlib.sha256(SCHEMA_FILE.read_bytes()).hexdigest() == VENDOR_SCHEMA_SHA256


def test_sdk_authorization_and_create_conversation(world: SdkWorld) -> None:
    # Section 6 and 7: the body exactly as the seed writes it (with its trailing comma).
    response = world.api.post(
        "/api/v1/sdk/conversations",
        content=b'{\n  "name": "sdk-contact-494",\n}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    created = response.json()
    same_shape(SEED_CREATED, created)
    payload = created["payload"]
    assert set(payload) == {"contact", "contactInbox", "account_id", "conversation"}
    assert payload["contact"] | {"id": 0} == {
        "id": 0,
        "name": "sdk-contact-494",
        "email": None,
        "phone_number": None,
        "custom_attributes": {},
        "additional_attributes": {},
    }
    assert TOKEN.match(payload["contactInbox"]["pubsubToken"])
    assert payload["account_id"] == world.account_id
    assert payload["conversation"] == {
        "id": payload["conversation"]["id"],
        "status": "open",
        "substatus": "inqueue",
    }


def test_a_conversation_nobody_can_take_is_resolved_as_in_the_seed(sdk_server: Any) -> None:
    from novatalks_kit import make_world

    world = make_world(sdk_server, queue=False)  # no queue and nobody online: unavailable at once
    contact = world.open()
    assert contact.payload["conversation"]["status"] == "resolved"


def test_get_all_messages_and_selected_messages_of_a_new_conversation(world: SdkWorld) -> None:
    contact = world.open()
    everything = world.api.get("/api/v1/sdk/conversations", headers=contact.headers)
    assert everything.status_code == 200
    assert everything.json() == {
        "conversation": {
            "id": contact.conversation_id,
            "status": "open",
            "contact_inbox_id": everything.json()["conversation"]["contact_inbox_id"],
            "substatus": "inqueue",
        },
        "messages": [],  # the seed's "[]": no messages yet
    }
    selected = world.api.get("/api/v1/sdk/conversations/messages?before=99", headers=contact.headers)
    assert selected.status_code == 200
    assert selected.json() == []


def test_create_new_message_for_contact(world: SdkWorld) -> None:
    contact = world.open()
    sent = world.api.post(
        "/api/v1/sdk/conversations/messages",
        json={"message": {"content": "hello", "echo_id": "724"}},
        headers=contact.headers,
    )
    assert sent.status_code == 200
    assert sent.content == b""
    again = world.api.post(
        "/api/v1/sdk/conversations/messages",
        json={"message": {"content": "hello", "echo_id": "724"}},
        headers=contact.headers,
    )
    assert again.status_code == 200
    [message] = world.messages(contact)
    same_shape(SEED_CONTACT_MESSAGE, message)
    assert message["content"] == "hello"
    assert message["echo_id"] == "724"
    assert message["message_type"] == "incoming"
    assert message["sender_type"] == "Contact"
    assert message["sender"]["name"] == "sdk-contact-494"
    assert message["status"] == "sent"
    assert message["conversation_id"] == contact.conversation_id
    assert message["reply"] is None


def test_create_message_with_file_and_text_then_with_file_only(world: SdkWorld) -> None:
    contact = world.open()
    with_text = world.api.post(
        "/api/v1/sdk/conversations/messages",
        files=[("attachments[]", ("telegram.png", PNG, "application/octet-stream"))],
        data={"message[content]": "hello", "message[echo_id]": "209"},
        headers=contact.headers,
    )
    assert with_text.status_code == 200
    assert with_text.content == b""
    [message] = world.messages(contact)
    same_shape(SEED_CONTACT_MESSAGE | {"attachments": [SEED_ATTACHMENT]}, message)
    assert message["content"] == "hello"
    assert message["echo_id"] == "209"
    [attachment] = message["attachments"]
    assert attachment["file_type"] == "image"
    assert attachment["mime_type"] == "image/png"  # read from the bytes, not the name or the header
    assert attachment["file_size"] == len(PNG)
    assert attachment["extension"] == "png"
    assert attachment["message_id"] == message["id"]
    served = world.server.client.get(attachment["data_url"])
    assert served.status_code == 200
    assert hashlib.sha256(served.content).digest() == hashlib.sha256(PNG).digest()

    other = world.open("sdk-contact-495")
    file_only = world.api.post(
        "/api/v1/sdk/conversations/messages",
        files=[("attachments[]", ("telegram.png", PNG, "image/png"))],
        data={"message[echo_id]": "209"},
        headers=other.headers,
    )
    assert file_only.status_code == 200
    [only] = world.messages(other)
    assert only["content"] is None  # as the seed's message with an attachment shows
    assert only["attachments"][0]["file_size"] == len(PNG)


def test_create_message_with_reply(world: SdkWorld) -> None:
    contact = world.open()
    world.go_online()
    world.accept(contact.conversation_id)
    greeting = world.agent_says(contact.conversation_id, "Доброго дня")
    dialog = world.conversation(contact)["messages"][0]["dialog_id"]
    assert UUID.match(dialog)
    content = (
        f"[RepliedMessageDialogId:]{dialog}[RepliedMessageId:]{greeting['id']}"
        "[RepliedContent:]Доброго дня[Content:]Вітаю"
    )
    sent = world.api.post(
        "/api/v1/sdk/conversations/messages",
        json={"message": {"content": content, "echo_id": "724"}},
        headers=contact.headers,
    )
    assert sent.status_code == 200
    message = world.messages(contact)[-1]
    assert message["content"] == "Вітаю"
    assert message["content_attributes"] == {"in_reply_to": greeting["id"]}
    same_shape(SEED_REPLY | {"attachments": []}, message["reply"])
    assert message["reply"]["id"] == greeting["id"]
    assert message["reply"]["content"] == "Доброго дня"
    assert message["reply"]["message_type"] == "outgoing"
    assert message["reply"]["sender"]["name"] == "Support"
    # The agent sees what it answers.
    listed = world.server.client.get(
        f"/api/agent/v1/conversations/{contact.conversation_id}/messages", headers=world.agent
    ).json()["messages"]
    assert listed[-1]["content"] == "Вітаю"
    assert listed[-1]["reply_to"] == greeting["id"]


def test_update_message_status(world: SdkWorld) -> None:
    contact = world.open()
    world.go_online()
    world.accept(contact.conversation_id)
    one = world.agent_says(contact.conversation_id, "one")
    two = world.agent_says(contact.conversation_id, "two")
    answer = world.api.patch(
        "/api/v1/sdk/conversations/messages/status",
        json={"status": "seen", "messageIds": [one["id"], two["id"]]},
        headers=contact.headers,
    )
    assert answer.status_code == 200
    assert answer.content == b""
    assert [m["status"] for m in world.messages(contact)] == ["seen", "seen"]


def test_update_interactive_message_attributes(world: SdkWorld) -> None:
    contact = world.open()
    world.go_online()
    world.accept(contact.conversation_id)
    question = world.agent_says(contact.conversation_id, **SEED_FEEDBACK | {"content_attributes": {}})
    answer = world.api.patch(
        f"/api/v1/sdk/conversations/messages/{question['id']}/interactive-attribute",
        json={"selected_content_attribute_value": "selected value or feedback input"},
        headers=contact.headers,
    )
    assert answer.status_code == 200
    assert answer.content == b""
    [message] = world.messages(contact)
    assert message["content_attributes"] == {"selected_value": "selected value or feedback input"}


@pytest.mark.parametrize("example", [SEED_CARD, SEED_LINK, SEED_FEEDBACK, SEED_QUICK_REPLY])
def test_interactive_messages_reach_the_sdk_as_the_seed_shows(
    world: SdkWorld, example: dict[str, Any]
) -> None:
    contact = world.open()
    world.go_online()
    world.accept(contact.conversation_id)
    sent = {**example, "content_attributes": dict(example["content_attributes"])}
    sent["content_attributes"].pop("selected_value", None)
    world.agent_says(contact.conversation_id, **sent)
    [message] = world.messages(contact)
    assert message["content_type"] == example["content_type"]
    assert message["content"] == example["content"]
    assert message["content_attributes"] == example["content_attributes"]
    assert message["message_type"] == "outgoing"


def test_websocket_section_as_the_seed_shows(world: SdkWorld) -> None:
    contact = world.open("sdk-contact-67")
    world.go_online()
    with subscribed(world, contact) as socket:
        # Keepalive: the server asks, the client answers.
        deadline_frames = 0
        while socket.keepalives == 0 and deadline_frames < 50:
            socket.quiet(0.1)
            deadline_frames += 1
        assert socket.keepalives >= 1
        socket.send({"event": "update_presence"})

        world.accept(contact.conversation_id)
        changed = socket.until("conversation.status_changed")["data"]
        same_shape(SEED_STATUS_CHANGED, changed)
        assert set(changed) == set(SEED_STATUS_CHANGED)
        assert set(changed["meta"]["sender"]) == set(SEED_STATUS_CHANGED["meta"]["sender"])  # type: ignore[index]
        assert set(changed["inbox"]["additional_settings"]) == set(
            SEED_STATUS_CHANGED["inbox"]["additional_settings"]  # type: ignore[index]
        )
        assert (changed["status"], changed["substatus"], changed["assignee_id"]) == (
            "open",
            "interacting",
            world.agent_id,
        )
        assert changed["channel"] == "Sdk"
        assert changed["meta"]["sender"]["name"] == "sdk-contact-67"
        assert changed["meta"]["assignee"]["id"] == world.agent_id
        assert changed["inbox"]["name"] == "Demo"

        agent_message = world.agent_says(contact.conversation_id, "hello")
        created = socket.until("message.created")["data"]
        same_shape(SEED_AGENT_MESSAGE, created)
        assert created["id"] == agent_message["id"]
        assert (created["message_type"], created["status"], created["sender"]["name"]) == (
            "outgoing",
            "sent",
            "Support",
        )
        assert len(created["echo_id"]) == 12

        world.say(contact, "hello", "589")
        mine = socket.until("message.created")["data"]
        same_shape(SEED_CONTACT_MESSAGE, mine)
        assert (mine["message_type"], mine["echo_id"]) == ("incoming", "589")

        attached = world.server.client.post(
            f"/api/agent/v1/conversations/{contact.conversation_id}/attachments",
            files={"file": ("telegram.png", PNG)},
            headers=world.agent,
        )
        assert attached.status_code == 201, attached.text
        with_file = socket.until("message.created")["data"]
        same_shape(SEED_AGENT_MESSAGE | {"content": None, "attachments": [SEED_ATTACHMENT]}, with_file)
        assert with_file["content"] is None
        assert with_file["reply"] is None

        world.api.patch(
            "/api/v1/sdk/conversations/messages/status",
            json={"status": "delivered", "messageIds": [agent_message["id"]]},
            headers=contact.headers,
        )
        updated = socket.until("message.updated")["data"]
        same_shape(SEED_AGENT_MESSAGE, updated)
        assert (updated["id"], updated["status"]) == (agent_message["id"], "delivered")

        typing = world.server.client.post(
            f"/api/agent/v1/conversations/{contact.conversation_id}/typing",
            json={"typing": True},
            headers=world.agent,
        )
        assert typing.status_code == 200
        assert socket.until("typing") == {
            "event": "typing",
            "data": {
                "conversation_id": contact.conversation_id,
                "sender": {"id": world.agent_id, "name": "Support"},
                "sender_type": "User",
            },
        }
        socket.send(
            {"event": "typing", "data": {"conversation_id": contact.conversation_id, "account_id": 1}}
        )
        assert socket.until("typing") == {
            "event": "typing",
            "data": {
                "conversation_id": contact.conversation_id,
                "sender": {"id": contact.contact_id, "name": "sdk-contact-67"},
                "sender_type": "Contact",
            },
        }
