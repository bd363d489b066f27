"""The ``/ws`` protocol with a real websocket client: subscribe, live events, typing both ways, keepalive
and the idle timeout, refusals, and resuming after a reconnect without losing anything."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from helpline_testing import start_server
from novatalks_kit import Contact, SdkSocket, SdkWorld, make_world, subscribed
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect


def agent_frames(world: SdkWorld) -> Any:
    return connect(f"{world.server.ws_url}/api/agent/v1/ws?api_key={world.api_key}", open_timeout=5)


def agent_event(socket: Any, event: str, timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(socket.recv(timeout=max(0.01, deadline - time.monotonic())))
        if frame["event"] == event:
            return dict(frame)


def test_a_subscriber_sees_the_agent_and_the_agent_sees_its_typing(world: SdkWorld) -> None:
    contact = world.open()
    world.go_online()
    with subscribed(world, contact) as socket, agent_frames(world) as agent:
        assert json.loads(agent.recv(timeout=5))["event"] == "ready"
        world.accept(contact.conversation_id)
        changed = socket.until("conversation.status_changed")["data"]
        assert (changed["id"], changed["status"], changed["substatus"]) == (
            contact.conversation_id,
            "open",
            "interacting",
        )

        world.server.client.post(
            f"/api/agent/v1/conversations/{contact.conversation_id}/typing",
            json={"typing": True},
            headers=world.agent,
        )
        assert socket.until("typing")["data"]["sender_type"] == "User"
        sent = world.agent_says(contact.conversation_id, "How can I help?")
        created = socket.until("message.created")["data"]
        assert (created["id"], created["content"], created["sender_type"]) == (
            sent["id"],
            "How can I help?",
            "User",
        )

        socket.send(
            {"event": "typing", "data": {"conversation_id": contact.conversation_id, "account_id": 1}}
        )
        typing = agent_event(agent, "contact.typing")
        assert typing["data"]["typing"] is True
        assert typing["data"]["conversation_id"] == contact.conversation_id
        socket.send(
            {"event": "typing", "data": {"conversation_id": contact.conversation_id, "typing": False}}
        )
        assert agent_event(agent, "contact.typing")["data"]["typing"] is False

        world.server.client.post(
            f"/api/agent/v1/conversations/{contact.conversation_id}/finish", headers=world.agent
        )
        finished = socket.until("conversation.status_changed")["data"]
        assert (finished["status"], finished["can_reply"]) == ("resolved", False)


def test_a_contact_on_two_devices_gets_every_frame_on_both(world: SdkWorld) -> None:
    contact = world.open()
    world.go_online()
    world.accept(contact.conversation_id)
    with subscribed(world, contact) as phone, subscribed(world, contact) as tablet:
        sent = world.agent_says(contact.conversation_id, "to both")
        assert phone.until("message.created")["data"]["id"] == sent["id"]
        assert tablet.until("message.created")["data"]["id"] == sent["id"]


def test_other_contacts_events_never_reach_a_socket(world: SdkWorld) -> None:
    mine, theirs = world.open("me"), world.open("them")
    world.go_online()
    world.accept(theirs.conversation_id)
    with subscribed(world, mine) as socket:
        world.agent_says(theirs.conversation_id, "not for you")
        world.say(theirs, "mine only", "1")
        assert socket.quiet(0.6) == []
        typing = {"event": "typing", "data": {"conversation_id": theirs.conversation_id}}
        socket.send(typing)
        assert socket.recv() == {
            "event": "error",
            "data": {"message": f"conversation {theirs.conversation_id} is not yours"},
        }


def _read_until_closed(socket: SdkSocket) -> None:
    while True:
        socket.recv(timeout=5)


def _drain(socket: SdkSocket) -> list[dict[str, Any]]:
    return socket.quiet(0.6)


def test_reconnecting_with_the_last_message_id_gets_exactly_what_was_missed(world: SdkWorld) -> None:
    contact = world.open()
    world.go_online()
    world.accept(contact.conversation_id)
    with subscribed(world, contact) as socket:
        first = world.agent_says(contact.conversation_id, "first")
        seen = socket.until("message.created")["data"]
        assert seen["id"] == first["id"]
    # Offline: two answers, a receipt the contact's other device sent, typing, and the end.
    second = world.agent_says(contact.conversation_id, "second")
    third = world.agent_says(contact.conversation_id, "third")
    world.api.patch(
        "/api/v1/sdk/conversations/messages/status",
        json={"status": "delivered", "messageIds": [second["id"]]},
        headers=contact.headers,
    )
    world.server.client.post(
        f"/api/agent/v1/conversations/{contact.conversation_id}/finish", headers=world.agent
    )
    with subscribed(world, contact, after=seen["id"]) as socket:
        missed = _drain(socket)
        assert [(f["event"], f["data"].get("id"), f["data"].get("status")) for f in missed] == [
            ("message.created", second["id"], "sent"),
            ("message.created", third["id"], "sent"),
            ("message.updated", second["id"], "delivered"),
            ("conversation.status_changed", contact.conversation_id, "resolved"),
        ]
        # Live again after the replay, nothing twice.
        world.say(contact, "back", "b1")
        frames = _drain(socket)
        # A new conversation: the message first, then the conversation waits for an agent.
        assert [f["event"] for f in frames] == ["message.created", "conversation.status_changed"]
        assert frames[0]["data"]["content"] == "back"
        assert frames[0]["data"]["conversation_id"] == frames[1]["data"]["id"] != contact.conversation_id


def test_reconnecting_with_the_last_time_seen_loses_nothing(world: SdkWorld) -> None:
    contact = world.open()
    world.go_online()
    world.accept(contact.conversation_id)
    with subscribed(world, contact) as socket:
        world.agent_says(contact.conversation_id, "first")
        seen = socket.until("message.created")["data"]
    missed_ids = [world.agent_says(contact.conversation_id, f"missed {n}")["id"] for n in range(3)]
    with subscribed(world, contact, updated_at=seen["updated_at"]) as socket:
        frames = _drain(socket)
    replayed = [f["data"]["id"] for f in frames if f["event"] == "message.created"]
    # Events from the millisecond it saw last come again (the client drops what it has), then the rest.
    assert [i for i in replayed if i != seen["id"]] == missed_ids


def test_a_new_conversation_after_the_end_reaches_the_open_socket(world: SdkWorld) -> None:
    contact = world.open()
    world.go_online()
    world.accept(contact.conversation_id)
    world.server.client.post(
        f"/api/agent/v1/conversations/{contact.conversation_id}/finish", headers=world.agent
    )
    with subscribed(world, contact) as socket:
        world.say(contact, "are you there?", "n1")
        created = socket.until("message.created")["data"]
        queued = socket.until("conversation.status_changed")["data"]
    assert created["conversation_id"] == queued["id"] != contact.conversation_id
    assert (queued["status"], queued["substatus"]) == ("open", "inqueue")
    assert world.conversation(contact)["conversation"]["id"] == queued["id"]


@pytest.mark.parametrize(
    ("first", "code", "reason"),
    [
        ({"event": "subscribe", "data": {"pubsub_token": "wrong"}}, 4401, "invalid access_token"),
        ({"event": "subscribe", "data": {}}, 4401, "data.pubsub_token is required"),
        ({"event": "typing", "data": {}}, 4400, "subscribe first"),
        ("not json", 4400, "subscribe first"),
    ],
)
def test_a_bad_subscription_is_refused_with_a_clear_reason(
    world: SdkWorld, first: Any, code: int, reason: str
) -> None:
    with connect(f"{world.server.ws_url}/ws", open_timeout=5) as connection:
        connection.send(first if isinstance(first, str) else json.dumps(first))
        with pytest.raises(ConnectionClosed) as closed:
            connection.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == code
    assert reason in closed.value.rcvd.reason


def test_a_token_of_another_account_is_refused(world: SdkWorld) -> None:
    contact = world.open()
    with connect(f"{world.server.ws_url}/ws", open_timeout=5) as connection:
        connection.send(
            json.dumps(
                {
                    "event": "subscribe",
                    "data": {"pubsub_token": contact.token, "account_id": contact.account_id + 1},
                }
            )
        )
        with pytest.raises(ConnectionClosed) as closed:
            connection.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401
    assert f"not of account {contact.account_id + 1}" in closed.value.rcvd.reason


def test_bad_frames_get_an_error_and_the_socket_stays(world: SdkWorld) -> None:
    contact = world.open()
    with subscribed(world, contact) as socket:
        socket.connection.send("{oops")
        assert socket.recv()["data"] == {"message": "frames are JSON objects"}
        socket.send({"event": "dance"})
        assert "unknown event 'dance'" in socket.recv()["data"]["message"]
        socket.send({"event": "typing", "data": {"conversation_id": "x"}})
        assert socket.recv()["data"] == {"message": "typing needs data.conversation_id (a number)"}
        socket.send({"event": "subscribe", "data": {"pubsub_token": contact.token}})
        assert socket.recv() == {"event": "confirm_subscription", "data": "confirmed"}
        socket.send({"event": "subscribe", "data": {"pubsub_token": world.open("other").token}})
        assert "another pubsub_token" in socket.recv()["data"]["message"]


def test_keepalive_and_a_silent_client_is_dropped(tmp_path: Path) -> None:
    with start_server(tmp_path, sdk_keepalive_seconds=0.2, sdk_idle_timeout_seconds=1.0) as server:
        world = make_world(server)
        contact: Contact = world.open()
        with subscribed(world, contact) as answering:
            started = time.monotonic()
            while time.monotonic() - started < 2.0:  # twice the timeout, answering every keepalive
                answering.quiet(0.25)
                answering.send({"event": "update_presence"})
            assert answering.keepalives >= 5
            world.go_online()
            world.accept(contact.conversation_id)
            assert answering.until("conversation.status_changed")["data"]["substatus"] == "interacting"
        with subscribed(world, contact) as silent:
            with pytest.raises(ConnectionClosed) as closed:
                _read_until_closed(silent)
            assert silent.keepalives >= 2
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4408
            assert "no update_presence" in closed.value.rcvd.reason
