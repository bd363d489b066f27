"""Messages beyond the seed's examples: paging, bad input, several files, deleting, reactions, a new
conversation after the last one ended, settings."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpline_testing import start_server
from novatalks_kit import Contact, SdkWorld, make_world, subscribed

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)
PDF = b"%PDF-1.4\n" + bytes(300)


def chat(world: SdkWorld, count: int) -> tuple[Contact, list[int]]:
    contact = world.open()
    for n in range(count):
        world.say(contact, f"m{n}", f"e{n}")
    return contact, [m["id"] for m in world.messages(contact, limit=100)]


def test_paging_before_after_limit(world: SdkWorld) -> None:
    contact, ids = chat(world, 25)
    assert len(ids) == 25
    assert [m["id"] for m in world.messages(contact)] == ids[-20:]  # the 20 newest, oldest first
    assert [m["id"] for m in world.messages(contact, before=ids[10])] == ids[:10]
    assert [m["id"] for m in world.messages(contact, before=ids[24], limit=3)] == ids[21:24]
    assert [m["id"] for m in world.messages(contact, after=ids[2], limit=4)] == ids[3:7]
    assert [m["id"] for m in world.messages(contact, after=ids[2], before=ids[5])] == ids[3:5]
    assert world.messages(contact, after=ids[-1]) == []
    everything = world.conversation(contact)["messages"]
    assert [m["id"] for m in everything] == ids
    assert [
        m["id"]
        for m in world.api.get("/api/v1/sdk/conversations?limit=2", headers=contact.headers).json()[
            "messages"
        ]
    ] == ids[-2:]


def test_paging_by_time_of_change(world: SdkWorld) -> None:
    contact, ids = chat(world, 3)
    world.go_online()
    world.accept(contact.conversation_id)
    answer = world.agent_says(contact.conversation_id, "answer")
    newest = max(m["updated_at"] for m in world.messages(contact))
    assert world.messages(contact, updated_at=newest) == []
    time.sleep(0.01)
    world.server.client.post(
        f"/api/agent/v1/conversations/{contact.conversation_id}/seen",
        json={"up_to": ids[0]},
        headers=world.agent,
    )
    world.api.patch(
        "/api/v1/sdk/conversations/messages/status",
        json={"status": "delivered", "messageIds": [answer["id"]]},
        headers=contact.headers,
    )
    changed = world.messages(contact, updated_at=newest)
    assert [(m["id"], m["status"]) for m in changed] == [(ids[0], "seen"), (answer["id"], "delivered")]
    assert all(m["updated_at"] > newest for m in changed)
    assert world.messages(contact, updated_at=changed[-1]["updated_at"]) == []


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("before=x", "before must be a number"),
        ("after=-1", "after must be at least 0"),
        ("limit=0", "limit must be from 1 to 100"),
        ("limit=101", "limit must be from 1 to 100"),
        ("updated_at=soon", "updated_at must be a number"),
    ],
)
def test_bad_paging_is_refused(world: SdkWorld, query: str, fragment: str) -> None:
    contact = world.open()
    answer = world.api.get(f"/api/v1/sdk/conversations/messages?{query}", headers=contact.headers)
    assert answer.status_code == 400
    assert fragment in answer.json()["message"]


def test_bad_bodies_are_refused_and_nothing_is_written(world: SdkWorld) -> None:
    for body, fragment in (
        ({}, "missing required field name"),
        ({"name": "  "}, "name is required"),
        ({"name": "x", "email": "not-an-email"}, "email must be an email address"),
        ({"name": "x", "email": "a" * 70 + "@b.com"}, "at most 74 characters"),
        ({"name": 5}, "Expected str, got int"),
    ):
        answer = world.api.post("/api/v1/sdk/conversations", json=body)
        assert answer.status_code == 400, body
        assert fragment in answer.json()["message"], answer.json()
    broken = world.api.post(
        "/api/v1/sdk/conversations", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400
    assert "malformed JSON" in broken.json()["message"]
    contact = world.open()
    for body, fragment in (
        ({"message": {"content": " ", "echo_id": "1"}}, "message.content is required"),
        (
            {"message": {"content": "[RepliedMessageDialogId:]x[RepliedMessageId:]1", "echo_id": "2"}},
            "a reply must read",
        ),
        ({"content": "hi"}, "missing required field message"),
    ):
        answer = world.api.post("/api/v1/sdk/conversations/messages", json=body, headers=contact.headers)
        assert answer.status_code == 400, body
        assert fragment in answer.json()["message"], answer.json()
    for body, fragment in (
        ({"status": "read", "messageIds": [1]}, "status must be one of sent, delivered, seen, failed"),
        ({"status": "seen", "messageIds": "1"}, "Expected array"),
        ({"status": "seen"}, "missing required field messageIds"),
    ):
        answer = world.api.patch(
            "/api/v1/sdk/conversations/messages/status", json=body, headers=contact.headers
        )
        assert answer.status_code == 400, body
        assert fragment in answer.json()["message"]
    assert world.messages(contact) == []
    assert (
        world.api.delete("/api/v1/sdk/conversations/messages/abc", headers=contact.headers).status_code == 404
    )


def test_echo_id_and_a_first_content_are_optional_as_in_the_vendor_schema(world: SdkWorld) -> None:
    """The vendor's schema requires neither: a first message without content opens the conversation
    without a message, and a message without echo_id is kept (each send its own message)."""
    quiet = world.api.post("/api/v1/sdk/conversations", json={"name": "x", "message": {"echo_id": "1"}})
    assert quiet.status_code == 200
    token = quiet.json()["payload"]["contactInbox"]["pubsubToken"]
    headers = {"access_token": token}
    assert world.api.get("/api/v1/sdk/conversations/messages", headers=headers).json() == []
    for _ in range(2):
        sent = world.api.post(
            "/api/v1/sdk/conversations/messages", json={"message": {"content": "hi"}}, headers=headers
        )
        assert sent.status_code == 200
    listed = world.api.get("/api/v1/sdk/conversations/messages", headers=headers).json()
    assert [m["content"] for m in listed] == ["hi", "hi"]
    assert listed[0]["echo_id"] != listed[1]["echo_id"]
    first = world.api.post("/api/v1/sdk/conversations", json={"name": "y", "message": {"content": "hey"}})
    assert first.status_code == 200
    assert first.json()["payload"]["conversation"]["id"] != quiet.json()["payload"]["conversation"]["id"]


def test_several_files_and_the_size_cap(tmp_path: Path) -> None:
    with start_server(tmp_path, max_upload_bytes=4096) as server:
        world = make_world(server)
        contact = world.open()
        sent = world.api.post(
            "/api/v1/sdk/conversations/messages",
            files=[
                ("attachments[]", ("a.png", PNG, "image/png")),
                ("attachments[]", ("b.pdf", PDF, "application/pdf")),
            ],
            data={"message[content]": "two files", "message[echo_id]": "f1"},
            headers=contact.headers,
        )
        assert sent.status_code == 200
        first, second = world.messages(contact)
        assert (first["content"], first["echo_id"], first["attachments"][0]["file_type"]) == (
            "two files",
            "f1",
            "image",
        )
        assert (second["content"], second["echo_id"], second["attachments"][0]["mime_type"]) == (
            None,
            "f1#2",
            "application/pdf",
        )
        retried = world.api.post(
            "/api/v1/sdk/conversations/messages",
            files=[("attachments[]", ("a.png", PNG, "image/png"))],
            data={"message[content]": "two files", "message[echo_id]": "f1"},
            headers=contact.headers,
        )
        assert retried.status_code == 200
        assert len(world.messages(contact)) == 2
        too_big = world.api.post(
            "/api/v1/sdk/conversations/messages",
            files=[("attachments[]", ("big.bin", bytes(5000), "application/octet-stream"))],
            data={"message[echo_id]": "f2"},
            headers=contact.headers,
        )
        assert too_big.status_code == 413
        assert len(world.messages(contact)) == 2
        stored = list((tmp_path / "files").rglob("*"))
        assert (
            len([p for p in stored if p.is_file()]) == 2
        )  # the refused and the repeated uploads left nothing


def test_deleting_own_messages(world: SdkWorld) -> None:
    contact = world.open()
    world.go_online()
    world.accept(contact.conversation_id)
    sent = world.api.post(
        "/api/v1/sdk/conversations/messages",
        files=[("attachments[]", ("a.png", PNG, "image/png"))],
        data={"message[content]": "oops", "message[echo_id]": "d1"},
        headers=contact.headers,
    )
    assert sent.status_code == 200
    [mine] = world.messages(contact)
    file_url = mine["attachments"][0]["data_url"]
    assert world.server.client.get(file_url).status_code == 200
    agents = world.agent_says(contact.conversation_id, "kept")
    with subscribed(world, contact) as socket:
        assert (
            world.api.delete(
                f"/api/v1/sdk/conversations/messages/{mine['id']}", headers=contact.headers
            ).status_code
            == 200
        )
        deleted = socket.until("message.deleted")["data"]
    assert (deleted["id"], deleted["content"], deleted["attachments"]) == (mine["id"], None, [])
    assert deleted["content_attributes"] == {"deleted": True}
    assert world.server.client.get(file_url).status_code == 404
    refused = world.api.delete(f"/api/v1/sdk/conversations/messages/{agents['id']}", headers=contact.headers)
    assert refused.status_code == 403
    assert "not yours to delete" in refused.json()["message"]
    assert (
        world.api.delete(
            f"/api/v1/sdk/conversations/messages/{mine['id']}", headers=contact.headers
        ).status_code
        == 200
    )
    listed = world.server.client.get(
        f"/api/agent/v1/conversations/{contact.conversation_id}/messages", headers=world.agent
    ).json()["messages"]
    assert [(m["content"], m["url"], m["deleted"]) for m in listed] == [
        ("", None, True),
        ("kept", None, False),
    ]


def test_reactions(world: SdkWorld) -> None:
    contact = world.open()
    world.go_online()
    world.accept(contact.conversation_id)
    message = world.agent_says(contact.conversation_id, "good news")
    url = f"/api/v1/sdk/conversations/messages/{message['id']}/reactions"
    with subscribed(world, contact) as socket:
        assert world.api.post(url, json={"reaction": "👍"}, headers=contact.headers).status_code == 200
        frame = socket.until("message.reaction_updated")["data"]
        assert frame["reactions"] == [
            {"reaction": "👍", "sender_type": "Contact", "sender_id": contact.contact_id}
        ]
        assert world.api.post(url, json={"reaction": "🎉"}, headers=contact.headers).status_code == 200
        assert socket.until("message.reaction_updated")["data"]["reactions"][0]["reaction"] == "🎉"
        assert world.api.post(url, json={"reaction": "🎉"}, headers=contact.headers).status_code == 200
        assert world.api.post(url, json={"reaction": None}, headers=contact.headers).status_code == 200
        assert socket.until("message.reaction_updated")["data"]["reactions"] == []
        assert socket.quiet(0.3) == []
    for body, fragment in (
        ({}, "missing required field reaction"),
        ({"reaction": ""}, "non-empty"),
        ({"reaction": "x" * 40}, "at most 32"),
    ):
        refused = world.api.post(url, json=body, headers=contact.headers)
        assert refused.status_code == 400
        assert fragment in refused.json()["message"]


def test_writing_after_the_end_starts_a_new_conversation(world: SdkWorld) -> None:
    contact = world.open()
    world.go_online()
    world.accept(contact.conversation_id)
    world.say(contact, "first", "1")
    world.server.client.post(
        f"/api/agent/v1/conversations/{contact.conversation_id}/finish", headers=world.agent
    )
    assert world.conversation(contact)["conversation"]["status"] == "resolved"
    world.say(contact, "first", "1")  # a retry of the old message: nothing new
    assert world.conversation(contact)["conversation"]["id"] == contact.conversation_id
    world.say(contact, "again", "2")
    current = world.conversation(contact)
    assert current["conversation"]["id"] != contact.conversation_id
    assert (current["conversation"]["status"], current["conversation"]["substatus"]) == ("open", "inqueue")
    assert [m["content"] for m in current["messages"]] == ["again"]
    queued = world.server.client.get("/api/agent/v1/conversations?status=queued", headers=world.agent).json()
    assert [c["id"] for c in queued["conversations"]] == [current["conversation"]["id"]]
    assert queued["conversations"][0]["contact"]["name"] == "sdk-contact-494"


def test_first_message_and_contact_details(world: SdkWorld) -> None:
    contact = world.open(
        "Olena",
        email="olena@example.com",
        phone_number="+380501234567",
        custom_attributes={"plan": "gold"},
        additional_attributes={"city": "Kyiv"},
        message={"content": "Доброго дня", "echo_id": "first"},
    )
    assert contact.payload["contact"] | {"id": 0} == {
        "id": 0,
        "name": "Olena",
        "email": "olena@example.com",
        "phone_number": "+380501234567",
        "custom_attributes": {"plan": "gold"},
        "additional_attributes": {"city": "Kyiv"},
    }
    [message] = world.messages(contact)
    assert (message["content"], message["echo_id"]) == ("Доброго дня", "first")
    agent_view = world.server.client.get(
        f"/api/agent/v1/conversations/{contact.conversation_id}", headers=world.agent
    ).json()
    assert agent_view["contact"]["email"] == "olena@example.com"
    assert agent_view["contact"]["attributes"] == {
        "custom_attributes": {"plan": "gold"},
        "additional_attributes": {"city": "Kyiv"},
    }


def test_a_first_message_is_kept_when_nobody_can_take_the_conversation(sdk_server: object) -> None:
    world = make_world(sdk_server, queue=False)  # type: ignore[arg-type]
    contact = world.open(message={"content": "anyone?", "echo_id": "1"})
    assert contact.payload["conversation"]["status"] == "resolved"
    assert [m["content"] for m in world.messages(contact)] == ["anyone?"]


def test_settings(world: SdkWorld) -> None:
    anonymous = world.api.get("/api/v1/sdk/settings")
    assert anonymous.status_code == 200
    settings = anonymous.json()
    assert settings["inbox"] == {
        "id": world.department_id,
        "name": "Demo",
        "identifier": world.identifier,
        "channel": "Sdk",
        "active": True,
    }
    assert settings["account_id"] == world.account_id
    assert settings["websocket"]["path"] == "/ws"
    assert settings["agents_online"] == 0
    world.go_online()
    contact = world.open()
    assert world.api.get("/api/v1/sdk/settings", headers=contact.headers).json()["agents_online"] == 1
    assert world.api.get("/api/v1/sdk/settings?inbox=nope").status_code == 404
