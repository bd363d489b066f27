"""Sessions and tickets: reuse, a new ticket per new session, messageNumber retries, ending, chat config
with agents online and offline, chatbot logs, and the SSRF guard at first contact. Real server, real
``chatServer`` on loopback."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
from helpline_testing import RunningServer, start_server
from omnidesk_kit import (
    PICTURE,
    SEED_CONFIG,
    SEED_CONFIG_RESPONSE,
    SEED_URL,
    ChatServer,
    make_world,
    ticket_of,
)

from helpline.core import admin
from helpline.dialects.omnidesk import admin as chat_admin
from helpline.dialects.omnidesk.repository import OmnideskRepository
from helpline.outbound.repository import Deliveries


def test_one_session_one_ticket_and_a_new_session_a_new_ticket(
    server: RunningServer, chat_server: ChatServer
) -> None:
    world = make_world(server)
    first = ticket_of(world.message("session-1", chat_server.url, "hello", number=1))
    assert ticket_of(world.message("session-1", chat_server.url, "again", number=2)) == first
    second = ticket_of(world.message("session-2", chat_server.url, "other chat", number=1))
    assert second != first
    assert ticket_of(world.message("session-1", chat_server.url, "third", number=3)) == first
    assert [m["content"] for m in world.messages(first)] == ["hello", "again", "third"]
    assert [m["content"] for m in world.messages(second)] == ["other chat"]
    # The same session id under another account's token is that account's own session.
    other = make_world(server, name="Globex")
    theirs = ticket_of(other.message("session-1", chat_server.url, "not yours", number=1))
    assert theirs not in (first, second)
    assert [m["content"] for m in world.messages(first)] == ["hello", "again", "third"]


def test_a_repeated_message_number_does_not_make_a_second_message(
    server: RunningServer, chat_server: ChatServer
) -> None:
    world = make_world(server)
    ticket = ticket_of(world.message("s", chat_server.url, "one", number=1))
    for _ in range(3):
        assert ticket_of(world.message("s", chat_server.url, "one", number=1)) == ticket
    assert ticket_of(world.message("s", chat_server.url, "two", number=2)) == ticket
    assert ticket_of(world.message("s", chat_server.url, "two (sent twice)", number=2)) == ticket
    # Without messageNumber every message counts.
    assert ticket_of(world.message("s", chat_server.url, "no number")) == ticket
    assert ticket_of(world.message("s", chat_server.url, "no number")) == ticket
    assert [m["content"] for m in world.messages(ticket)] == ["one", "two", "no number", "no number"]


def test_racing_first_messages_of_one_session_make_one_ticket(
    server: RunningServer, chat_server: ChatServer
) -> None:
    world = make_world(server)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def send(number: int) -> None:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            answer = client.post(
                "/api/v2/chat/notifyUserNewChatMessage",
                data={
                    "url": SEED_URL,
                    "message": f"message {number}",
                    "channelID": "8",
                    "chatAccountToken": world.account_token,
                    "chatSessionID": "race",
                    "chatServer": chat_server.url,
                    "messageNumber": str(number),
                },
            )
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tickets = {ticket_of(answer) for answer in answers}
    assert len(tickets) == 1
    [ticket] = tickets
    assert sorted(m["content"] for m in world.messages(ticket)) == [f"message {n}" for n in range(1, 9)]
    sessions = server.store.read_sync(lambda uow: OmnideskRepository.from_uow(uow).sessions_by_key("race"))
    assert len(sessions) == 1


def test_the_customer_side_ends_the_session(server: RunningServer, chat_server: ChatServer) -> None:
    world = make_world(server)
    ticket = ticket_of(world.message("bye", chat_server.url, "hi", number=1))
    for _ in range(2):  # a retry of the end gets the same answer
        ended = server.client.post(
            "/api/v2/message/notifyUserEndChat", data={"chatSessionID": "bye", "chatServer": chat_server.url}
        )
        assert ended.status_code == 200, ended.text
        assert ended.json() == {"type": "result", "message": "Session ended."}
    conversation = world.conversation(ticket)
    assert conversation["state"] == "finished"
    assert conversation["finished_by"]["type"] == "contact"
    typing = server.client.post(
        "/api/v2/chat/notifyUserNewChatEvent",
        data={"chatSessionID": "bye", "chatServer": chat_server.url, "event": "startedtyping"},
    )
    assert typing.status_code == 409
    assert "has ended" in typing.json()["message"]
    # The customer ended it: no /endSession goes back to them.
    assert server.store.read_sync(lambda uow: Deliveries.from_uow(uow).list(world.account_id, None, 10)) == []
    assert chat_server.hooks == []


def test_a_later_chat_server_takes_the_session_hookpoints(server: RunningServer) -> None:
    world = make_world(server)
    with ChatServer() as before, ChatServer() as after:
        ticket = ticket_of(world.message("moving", before.url, "hi", number=1))
        world.presence("online")
        world.accept(ticket)
        headers = world.headers
        server.client.post(
            f"/api/agent/v1/conversations/{ticket}/messages", json={"content": "one"}, headers=headers
        )
        before.wait_for(1)
        assert ticket_of(world.message("moving", after.url, "moved", number=2)) == ticket
        server.client.post(
            f"/api/agent/v1/conversations/{ticket}/messages", json={"content": "two"}, headers=headers
        )
        [hook] = after.wait_for(1)
    assert [h.fields["message"] for h in before.hooks] == ["one"]
    assert hook.fields == {"picture": PICTURE, "name": "Ana", "message": "two", "sessionID": "moving"}


def test_request_chat_config_with_agents_offline_and_online(server: RunningServer) -> None:
    world = make_world(server, hide_when_offline=True)
    changes = {key: ("null" if value is None else value) for key, value in SEED_CONFIG.items()}
    changes |= {"ask_phone_number": "true", "show_team": "true"}
    server.store.write_sync(lambda uow: chat_admin.set_chat_config(uow, world.account_id, changes))
    tokens = {"chatAccountToken": world.account_token, "chatServerToken": world.server_token}

    offline = server.client.get("/requestChatConfig", params=tokens)
    assert offline.status_code == 200, offline.text
    assert offline.json() == SEED_CONFIG_RESPONSE
    assert offline.headers["access-control-allow-origin"] == "*"
    posted = server.client.post("/api/v2/chat/requestChatConfig", data=tokens)
    assert posted.json() == SEED_CONFIG_RESPONSE
    assert server.client.post("/api/v2/chat/requestChatConfig", json=tokens).json() == SEED_CONFIG_RESPONSE

    world.presence("online")
    online = server.client.get("/requestChatConfig", params=tokens).json()
    assert online["config"] == SEED_CONFIG
    assert online["instructions"] == [
        {"type": "phoneNumber", "key": "phoneNumber"},
        {"type": "show_team", "team_profile_pictures": [PICTURE]},
    ]
    world.presence("away")
    away = server.client.get("/requestChatConfig", params=tokens).json()
    assert away["instructions"][0] == {"type": "hide_reason_no_agents_available"}


def test_request_chat_config_defaults_and_a_token_that_never_hides(server: RunningServer) -> None:
    world = make_world(server, hide_when_offline=False)
    answer = server.client.get(
        "/requestChatConfig",
        params={"chatAccountToken": world.account_token, "chatServerToken": world.server_token},
    ).json()
    assert answer["type"] == "result"
    assert answer["message"] == "start instructions"
    assert list(answer["config"]) == list(SEED_CONFIG)
    assert answer["config"]["header_color"] == "#18e2ae"
    assert answer["config"]["show_survey_after_chat"] is None
    assert answer["instructions"] == []  # nobody online, but this token does not hide the chat
    server.store.write_sync(lambda uow: chat_admin.update_chat_token(uow, world.token_id, True))
    hidden = server.client.post(
        "/api/v2/chat/requestChatConfig",
        data={"chatAccountToken": world.account_token, "chatServerToken": world.server_token},
    ).json()
    assert hidden["instructions"] == [{"type": "hide_reason_no_agents_available"}]


def test_a_chatbot_log_becomes_a_ticket_with_its_transcript(server: RunningServer) -> None:
    world = make_world(server)
    sales = server.add_department(world.account_id, "Sales")
    brand = server.store.write_sync(
        lambda uow: chat_admin.create_brand(uow, world.account_id, "Acme Shop", sales)
    )
    transcript = (
        "**Bot:** Hi! What can I do?\n\n**Customer:** Where is my *order*?\n\n**Bot:** Let me get a person."
    )
    answer = server.client.post(
        "/api/v2/message/chatbot",
        data={
            "from": "joao@example.com",
            "subject": "Order question",
            "message": transcript,
            "brandID": str(brand.id),
        },
        headers={"apiKey": world.account_token},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"result": "success", "message": "Chatbot ticket created."}

    admin_key = server.store.write_sync(
        lambda uow: admin.create_agent(uow, world.account_id, "Boss", "boss@acme.test", "s3cret", [sales])
    ).api_key
    headers = {"authorization": f"Bearer {admin_key}"}
    [conversation] = server.client.get("/api/agent/v1/conversations", headers=headers).json()["conversations"]
    assert conversation["department_id"] == sales
    assert conversation["extra"] == {
        "subject": "Order question",
        "from": "joao@example.com",
        "chatbot_log": True,
        "brand": {"id": brand.id, "name": "Acme Shop"},
    }
    assert conversation["contact"]["email"] == "joao@example.com"
    assert conversation["external_history"]["status"] == "loaded"
    shown = server.client.get(
        f"/api/agent/v1/conversations/{conversation['id']}/messages", headers=headers
    ).json()
    [entry] = shown["messages"]
    assert (entry["history"], entry["sender"]["type"], entry["content"]) == (True, "bot", transcript)

    # JSON works too; without a brand the ticket goes to the token's department; a phone number as "from".
    plain = server.client.post(
        "/api/v2/message/chatbot",
        json={"from": "+31612345678", "message": "hello", "chatAccountToken": world.account_token},
    )
    assert plain.status_code == 200, plain.text
    listed = server.client.get("/api/agent/v1/conversations", headers=world.headers).json()["conversations"]
    [mine] = [c for c in listed if c["department_id"] == world.department_id]
    assert mine["contact"]["phone"] == "+31612345678"
    assert mine["extra"]["subject"] == "Chatbot conversation"


def test_a_chat_server_on_a_private_address_is_refused_at_first_contact(tmp_path: Path) -> None:
    with start_server(tmp_path, outbound_allow=()) as strict, ChatServer() as chat_server:
        world = make_world(strict)
        for target in (chat_server.url, "http://localhost:8080", "10.1.2.3", "http://169.254.169.254/latest"):
            answer = world.message("ssrf", target, "hi", number=1)
            assert answer.status_code == 422, answer.text
            body: dict[str, Any] = answer.json()
            assert body["type"] == "error"
            assert "chatServer" in body["message"]
            assert "refused" in body["message"]
            assert "HELPLINE_OUTBOUND_ALLOW" in body["message"]
        assert (
            strict.store.read_sync(lambda uow: OmnideskRepository.from_uow(uow).sessions_by_key("ssrf")) == []
        )
        assert (
            strict.store.read_sync(
                lambda uow: uow.conversations.list_for_agent(
                    world.account_id, [world.department_id], world.agent_id, None, True, 10
                )
            )
            == []
        )


def test_a_linked_file_reaches_the_customer_as_a_link(server: RunningServer, chat_server: ChatServer) -> None:
    world = make_world(server)
    ticket = ticket_of(world.message("links", chat_server.url, "a picture please", number=1))
    world.presence("online")
    world.accept(ticket)
    for body in (
        {"content": "here it is", "content_type": "image", "url": "https://cdn.acme.test/p.png"},
        {"content": "", "content_type": "file", "url": "https://cdn.acme.test/terms.pdf"},
    ):
        answer = server.client.post(
            f"/api/agent/v1/conversations/{ticket}/messages", json=body, headers=world.headers
        )
        assert answer.status_code == 201, answer.text
    hooks = chat_server.wait_for(2)
    assert [(h.path, h.fields["message"]) for h in hooks] == [
        ("/messageForCustomer", "here it is\nhttps://cdn.acme.test/p.png"),
        ("/messageForCustomer", "https://cdn.acme.test/terms.pdf"),
    ]


def test_a_card_reaches_the_customer_as_numbered_text(server: RunningServer, chat_server: ChatServer) -> None:
    """Omnidesk's chat has no cards: the customer reads the card's title, picture and options as text."""
    world = make_world(server)
    ticket = ticket_of(world.message("cards", chat_server.url, "which trip?", number=1))
    world.presence("online")
    world.accept(ticket)
    card = {
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
    answer = server.client.post(
        f"/api/agent/v1/conversations/{ticket}/messages", json=card, headers=world.headers
    )
    assert answer.status_code == 201, answer.text
    [hook] = chat_server.wait_for(1)
    assert (hook.path, hook.fields["message"]) == (
        "/messageForCustomer",
        "Explore the Mountains\nhttps://example.com/images/alps.jpg\n"
        "1. View Details: https://example.com/trips/alps\n2. Book Now",
    )


def test_a_token_sent_with_events_and_end_chat_is_checked_and_can_be_required(
    server: RunningServer, chat_server: ChatServer
) -> None:
    world = make_world(server)
    # A second chat token of the same account (another department's widget): a real token, not this one's.
    other = server.store.write_sync(
        lambda uow: chat_admin.create_chat_token(uow, world.account_id, world.department_id)
    )
    ticket = ticket_of(world.message("guarded", chat_server.url, "hi", number=1))
    session = {"chatSessionID": "guarded", "chatServer": chat_server.url}
    typing = {**session, "event": "startedtyping"}

    def post(path: str, fields: dict[str, str]) -> httpx.Response:
        return server.client.post(path, data=fields)

    event, end = "/api/v2/chat/notifyUserNewChatEvent", "/api/v2/message/notifyUserEndChat"
    assert post(event, typing).status_code == 200  # the seed's call: no token
    assert post(event, {**typing, "chatAccountToken": world.account_token}).status_code == 200
    wrong = post(event, {**typing, "chatAccountToken": other.account_token})
    assert wrong.status_code == 401, wrong.text
    assert "not started with this chatAccountToken" in wrong.json()["message"]
    assert post(end, {**session, "chatAccountToken": other.account_token}).status_code == 401
    assert post(end, {**session, "chatAccountToken": "0123456789abcdef"}).status_code == 401

    server.store.write_sync(lambda uow: chat_admin.update_chat_token(uow, world.token_id, None, True))
    refused = post(end, session)
    assert refused.status_code == 401, refused.text
    assert "requires it" in refused.json()["message"]
    assert post(event, typing).status_code == 401
    assert world.conversation(ticket)["state"] != "finished"
    ended = post(end, {**session, "chatAccountToken": world.account_token})
    assert ended.status_code == 200, ended.text
    assert world.conversation(ticket)["state"] == "finished"
