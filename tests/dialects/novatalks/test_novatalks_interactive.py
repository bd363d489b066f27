"""Interactive messages end to end: an agent sends a card, a quick reply or a feedback question; the
contact answers through the SDK; both sides see it live; customers of other APIs get plain text."""

from __future__ import annotations

import json
import time
from typing import Any

from helpline_testing import Receiver
from novatalks_kit import Contact, SdkWorld, subscribed
from websockets.sync.client import connect

CARD = {
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
QUICK_REPLY = {
    "content_type": "quick_reply",
    "content": "Which shipping?",
    "content_attributes": {
        "buttons": [
            {"title": "Standard (3–5 days)", "value": "SHIP_STANDARD"},  # noqa: RUF001 - the seed's dash
            {"title": "Overnight", "value": "SHIP_OVERNIGHT"},
        ]
    },
}
FEEDBACK = {"content_type": "feedback", "content": "How would you rate your experience?"}


def answer(world: SdkWorld, contact: Contact, message_id: int, value: str) -> Any:
    return world.api.patch(
        f"/api/v1/sdk/conversations/messages/{message_id}/interactive-attribute",
        json={"selected_content_attribute_value": value},
        headers=contact.headers,
    )


def ready(world: SdkWorld) -> Contact:
    contact = world.open()
    world.go_online()
    world.accept(contact.conversation_id)
    return contact


def agent_events(socket: Any, wanted: set[str], count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(found) < count:
        frame = json.loads(socket.recv(timeout=max(0.01, deadline - time.monotonic())))
        if frame["event"] in wanted:
            found.append(frame)
    return found


def test_a_postback_click_answers_the_card(world: SdkWorld) -> None:
    contact = ready(world)
    card = world.agent_says(contact.conversation_id, **CARD)
    agent_ws = connect(f"{world.server.ws_url}/api/agent/v1/ws?api_key={world.api_key}", open_timeout=5)
    with subscribed(world, contact) as socket, agent_ws as agent:
        assert answer(world, contact, card["id"], "BOOK_ALPS_TRIP").status_code == 200
        updated = socket.until("message.updated")["data"]
        assert updated["id"] == card["id"]
        assert updated["content_attributes"]["selected_value"] == "BOOK_ALPS_TRIP"
        reply = socket.until("message.created")["data"]
        assert (reply["content"], reply["message_type"], reply["sender_type"]) == (
            "Book Now",
            "incoming",
            "Contact",
        )
        assert reply["reply"]["id"] == card["id"]
        assert reply["content_attributes"] == {"in_reply_to": card["id"], "selected_value": "BOOK_ALPS_TRIP"}
        seen = agent_events(agent, {"message.updated", "message.created"}, 2)
        assert seen[0]["data"]["message"]["selected_value"] == "BOOK_ALPS_TRIP"
        assert seen[1]["data"]["message"]["content"] == "Book Now"
        assert seen[1]["data"]["message"]["reply_to"] == card["id"]
    listed = world.server.client.get(
        f"/api/agent/v1/conversations/{contact.conversation_id}/messages", headers=world.agent
    ).json()["messages"]
    assert [(m["content_type"], m["selected_value"]) for m in listed] == [
        ("card", "BOOK_ALPS_TRIP"),
        ("text", "BOOK_ALPS_TRIP"),
    ]


def test_a_quick_reply_is_answered_once(world: SdkWorld) -> None:
    contact = ready(world)
    question = world.agent_says(contact.conversation_id, **QUICK_REPLY)
    assert answer(world, contact, question["id"], "SHIP_OVERNIGHT").status_code == 200
    assert (
        answer(world, contact, question["id"], "SHIP_OVERNIGHT").status_code == 200
    )  # the same: nothing new
    other = answer(world, contact, question["id"], "SHIP_STANDARD")
    assert other.status_code == 409
    assert "already answered with 'SHIP_OVERNIGHT'" in other.json()["message"]
    messages = world.messages(contact)
    assert [m["content"] for m in messages] == ["Which shipping?", "Overnight"]
    assert messages[0]["content_attributes"]["selected_value"] == "SHIP_OVERNIGHT"


def test_choices_that_are_not_options_are_refused(world: SdkWorld) -> None:
    contact = ready(world)
    card = world.agent_says(contact.conversation_id, **CARD)
    plain = world.agent_says(contact.conversation_id, "just text")
    link = answer(world, contact, card["id"], "https://example.com/trips/alps")
    assert link.status_code == 400
    assert "choose one of 'BOOK_ALPS_TRIP'" in link.json()["message"]
    assert answer(world, contact, plain["id"], "x").json()["message"] == (
        f"message {plain['id']} is not an interactive message (it is text)"
    )
    empty = world.api.patch(
        f"/api/v1/sdk/conversations/messages/{card['id']}/interactive-attribute",
        json={"selected": "BOOK_ALPS_TRIP"},
        headers=contact.headers,
    )
    assert empty.status_code == 400
    assert "selected_content_attribute_value" in empty.json()["message"]
    assert [m["content_attributes"].get("selected_value") for m in world.messages(contact)] == [None, None]


def test_feedback_is_kept_with_the_conversation_even_after_it_ended(world: SdkWorld) -> None:
    contact = ready(world)
    question = world.agent_says(contact.conversation_id, **FEEDBACK)
    world.server.client.post(
        f"/api/agent/v1/conversations/{contact.conversation_id}/finish", headers=world.agent
    )
    with subscribed(world, contact) as socket:
        assert answer(world, contact, question["id"], "5").status_code == 200
        updated = socket.until("message.updated")["data"]
        assert updated["content_attributes"] == {"selected_value": "5"}
        assert socket.quiet(0.4) == []  # no answer message for a rating
    conversation = world.server.client.get(
        f"/api/agent/v1/conversations/{contact.conversation_id}", headers=world.agent
    ).json()
    assert conversation["feedback"] == {
        "message_id": question["id"],
        "question": "How would you rate your experience?",
        "value": "5",
        "at": conversation["feedback"]["at"],
    }


def test_a_card_of_an_ended_conversation_cannot_be_answered(world: SdkWorld) -> None:
    contact = ready(world)
    card = world.agent_says(contact.conversation_id, **CARD)
    world.server.client.post(
        f"/api/agent/v1/conversations/{contact.conversation_id}/finish", headers=world.agent
    )
    refused = answer(world, contact, card["id"], "BOOK_ALPS_TRIP")
    assert refused.status_code == 400
    assert "has ended" in refused.json()["message"]


def test_agents_are_told_what_is_wrong_with_an_interactive_message(world: SdkWorld) -> None:
    contact = ready(world)
    for body, fragment in (
        (
            {"content_type": "card", "content": "x", "content_attributes": {}},
            "needs content_attributes.buttons",
        ),
        (
            {
                "content_type": "card",
                "content": "x",
                "content_attributes": {"buttons": [{"type": "link", "title": "a", "url": "ftp://x"}]},
            },
            "must be an http(s) URL",
        ),
        (
            {"content_type": "quick_reply", "content": "", "content_attributes": {"buttons": []}},
            "needs content",
        ),
        ({"content_type": "text", "content": "x", "content_attributes": {"buttons": []}}, "only for card"),
    ):
        refused = world.server.client.post(
            f"/api/agent/v1/conversations/{contact.conversation_id}/messages", json=body, headers=world.agent
        )
        assert refused.status_code == 422, refused.text
        assert fragment in refused.json()["error"]["message"]
    assert world.messages(contact) == []


def test_customers_of_other_apis_get_numbered_plain_text(world: SdkWorld, receiver: Receiver) -> None:
    setup = world.server.setup_account(webhook_url=receiver.url + "/hook")
    started = world.server.client.post(
        "/api/v1/interactions",
        json={"token": setup["token"], "department_id": setup["department_id"], "customer": {"name": "Joao"}},
    )
    interaction = started.json()["data"]["interaction_hash"]
    headers = {"authorization": f"Bearer {setup['api_key']}"}
    world.server.client.post(f"/api/agent/v1/conversations/{interaction}/accept", headers=headers)
    sent = world.server.client.post(
        f"/api/agent/v1/conversations/{interaction}/messages", json=CARD, headers=headers
    )
    assert sent.status_code == 201, sent.text
    triggers = [r.json() for r in receiver.wait_for(3)]
    message = triggers[-1]["message"]
    assert message["type"] == "text"
    assert message["content"] == (
        "Explore the Mountains\n"
        "https://example.com/images/alps.jpg\n"
        "1. View Details: https://example.com/trips/alps\n"
        "2. Book Now"
    )
