"""Bad input gets a 4xx in the dialect's error shape, with a message that says what is wrong, and
leaves nothing half-written. Real server, real ``chatServer`` on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from helpline_testing import RunningServer, start_server
from omnidesk_kit import SEED_URL, ChatServer, ChatWorld, make_world, ticket_of

from helpline.dialects.omnidesk import admin as chat_admin
from helpline.outbound.repository import Deliveries

MESSAGE = "/api/v2/chat/notifyUserNewChatMessage"


def refused(answer: httpx.Response, status: int, *words: str) -> str:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert set(body) == {"type", "message"}
    assert body["type"] == "error"
    message: str = body["message"]
    for word in words:
        assert word in message, message
    return message


def fields(world: ChatWorld, chat_server: str, **changes: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "url": SEED_URL,
        "message": "hello",
        "channelID": "8",
        "chatAccountToken": world.account_token,
        "chatSessionID": "s-1",
        "chatServer": chat_server,
    }
    found.update(changes)
    return {k: v for k, v in found.items() if v is not None}


def nothing_written(server: RunningServer, world: ChatWorld) -> None:
    def work(uow: Any) -> tuple[int, int]:
        conversations = uow.conversations.list_for_agent(
            world.account_id, [], world.agent_id, None, True, 100
        )
        return len(conversations), len(Deliveries.from_uow(uow).list(world.account_id, None, 100))

    assert server.store.read_sync(work) == (0, 0)


def test_missing_required_fields_are_named(server: RunningServer, chat_server: ChatServer) -> None:
    world = make_world(server)
    for name in ("url", "message", "channelID", "chatAccountToken", "chatSessionID", "chatServer"):
        answer = server.client.post(MESSAGE, data=fields(world, chat_server.url, **{name: None}))
        assert refused(answer, 422) == f"{name} is required"
        blank = server.client.post(MESSAGE, data=fields(world, chat_server.url, **{name: "  "}))
        assert refused(blank, 422) == f"{name} is required"
    everything = server.client.post(MESSAGE, json={})
    assert refused(everything, 422) == (
        "chatAccountToken, chatSessionID, chatServer, message, url, channelID are required"
    )
    event = server.client.post("/api/v2/chat/notifyUserNewChatEvent", data={"chatServer": chat_server.url})
    assert refused(event, 422) == "chatSessionID, event are required"
    end = server.client.post("/api/v2/message/notifyUserEndChat", data={"chatSessionID": "s-1"})
    assert refused(end, 422) == "chatServer is required"
    config = server.client.get("/requestChatConfig", params={"chatAccountToken": world.account_token})
    assert refused(config, 422) == "chatServerToken is required"
    chatbot = server.client.post("/api/v2/message/chatbot", data={"chatAccountToken": world.account_token})
    assert chatbot.status_code == 422
    assert chatbot.json() == {"result": "error", "message": "from, message are required"}
    nothing_written(server, world)


def test_wrong_types_and_malformed_bodies(server: RunningServer, chat_server: ChatServer) -> None:
    world = make_world(server)
    refused(
        server.client.post(MESSAGE, data=fields(world, chat_server.url, channelID="live")), 422, "channelID"
    )
    refused(
        server.client.post(MESSAGE, data=fields(world, chat_server.url, messageNumber="0")),
        422,
        "messageNumber",
    )
    refused(
        server.client.post(MESSAGE, data=fields(world, chat_server.url, messageNumber="two")),
        422,
        "messageNumber",
    )
    refused(
        server.client.post(MESSAGE, json=fields(world, chat_server.url, message={"text": "hi"})),
        422,
        "message",
    )
    refused(
        server.client.post(
            MESSAGE, content=b'{"message": "hi"', headers={"content-type": "application/json"}
        ),
        422,
        "not valid JSON",
    )
    refused(server.client.post(MESSAGE, json=["a", "list"]), 422, "must be an object")
    with_file = server.client.post(
        MESSAGE, data=fields(world, chat_server.url), files={"extra": ("x.txt", b"data", "text/plain")}
    )
    refused(with_file, 422, "unexpected file", "addAttachment")
    refused(
        server.client.post(MESSAGE, data=fields(world, chat_server.url, url="https://x.test/" + "a" * 3000)),
        422,
        "url is longer",
    )
    event = server.client.post(
        "/api/v2/chat/notifyUserNewChatEvent",
        data={"chatServer": chat_server.url, "chatSessionID": "s-1", "event": "dancing"},
    )
    refused(
        event,
        422,
        "event must be one of startedtyping, stoppedtyping, expandedchat, minimizedchat",
        "dancing",
    )
    nothing_written(server, world)


@pytest.mark.parametrize(
    ("chat_server", "words"),
    [
        ("http://chat.example.com/hook?x=1", ("chatServer", "'=?'")),
        ("chat_server.example.com", ("chatServer", "'_'")),
        ("https://user@chat.example.com", ("chatServer", "'@'")),
        ("a.io", ("chatServer", "shorter than 5 characters")),
        ("ftp://chat.example.com", ("chatServer", "http(s) URL")),
        ("https:///only/a/path", ("chatServer", "http(s) URL")),
        ("https://chat.example.com:99999", ("chatServer", "invalid port")),
    ],
)
def test_a_chat_server_outside_the_allowed_characters_or_forms(
    server: RunningServer, chat_server: str, words: tuple[str, ...]
) -> None:
    world = make_world(server)
    refused(server.client.post(MESSAGE, data=fields(world, chat_server)), 422, *words)
    event = server.client.post(
        "/api/v2/chat/notifyUserNewChatEvent",
        data={"chatServer": chat_server, "chatSessionID": "s-1", "event": "startedtyping"},
    )
    refused(event, 422, *words)
    nothing_written(server, world)


def test_tokens_unknown_revoked_malformed_or_of_another_account(
    server: RunningServer, chat_server: ChatServer
) -> None:
    world = make_world(server)
    other = make_world(server, name="Globex")
    refused(
        server.client.post(MESSAGE, data=fields(world, chat_server.url, chatAccountToken="short")),
        422,
        "chatAccountToken must be at least 10 letters and digits",
    )
    refused(
        server.client.post(MESSAGE, data=fields(world, chat_server.url, chatAccountToken="a" * 48)),
        401,
        "unknown or revoked chatAccountToken",
    )
    ticket = ticket_of(server.client.post(MESSAGE, data=fields(world, chat_server.url)))

    # The other account's token does not reach this account's session: events, ending, files.
    for path, data in (
        ("/api/v2/chat/notifyUserNewChatEvent", {"event": "startedtyping"}),
        ("/api/v2/message/notifyUserEndChat", {}),
    ):
        answer = server.client.post(
            path,
            data={
                "chatServer": chat_server.url,
                "chatSessionID": "s-1",
                "chatAccountToken": other.account_token,
            }
            | data,
        )
        refused(answer, 404, "no chat session 's-1'")
    attach = server.client.post(
        "/api/v2/chat/addAttachment",
        files={"file": ("a.txt", b"hello", "text/plain")},
        data={"chatServer": chat_server.url, "chatAccountToken": other.account_token, "sessionID": "s-1"},
    )
    refused(attach, 404, "no chat session 's-1' for this chatAccountToken")
    # Without a token, the session is named by its id and chatServer: another chatServer finds nothing.
    elsewhere = server.client.post(
        "/api/v2/message/notifyUserEndChat",
        data={"chatServer": "https://elsewhere.example", "chatSessionID": "s-1"},
    )
    refused(elsewhere, 404, "no chat session 's-1' was started from chatServer https://elsewhere.example")
    assert world.conversation(ticket)["state"] == "queued"

    # requestChatConfig wants a pair: one token of each pair is refused.
    mixed = server.client.get(
        "/requestChatConfig",
        params={"chatAccountToken": world.account_token, "chatServerToken": other.server_token},
    )
    refused(mixed, 401, "chatServerToken does not belong to this chatAccountToken")

    # A brand of another account is not found; no token at all is refused.
    brand = server.store.write_sync(lambda uow: chat_admin.create_brand(uow, other.account_id, "Globex"))
    chatbot = server.client.post(
        "/api/v2/message/chatbot",
        data={
            "from": "a@b.test",
            "message": "log",
            "brandID": str(brand.id),
            "chatAccountToken": world.account_token,
        },
    )
    assert chatbot.status_code == 404
    assert chatbot.json() == {"result": "error", "message": f"brand {brand.id} not found"}
    anonymous = server.client.post("/api/v2/message/chatbot", data={"from": "a@b.test", "message": "log"})
    assert anonymous.status_code == 401
    assert "chatAccountToken" in anonymous.json()["message"]

    server.store.write_sync(lambda uow: chat_admin.revoke_chat_token(uow, world.token_id))
    refused(
        server.client.post(MESSAGE, data=fields(world, chat_server.url)),
        401,
        "unknown or revoked chatAccountToken",
    )


def test_attachments_need_a_file_a_session_and_fit_the_limit(tmp_path: Path) -> None:
    with start_server(tmp_path, max_upload_bytes=1000) as server, ChatServer() as chat_server:
        world = make_world(server)
        ticket_of(server.client.post(MESSAGE, data=fields(world, chat_server.url)))
        text = {"chatServer": chat_server.url, "chatAccountToken": world.account_token, "sessionID": "s-1"}
        too_large = server.client.post(
            "/api/v2/chat/addAttachment",
            files={"file": ("big.bin", bytes(5000), "application/octet-stream")},
            data=text,
        )
        refused(too_large, 413, "larger than the limit of 1000 bytes")
        streamed_over = server.client.post(
            "/api/v2/chat/addAttachment",
            files={"file": ("huge.bin", bytes(200_000), "application/octet-stream")},
            data=text,
        )
        refused(streamed_over, 413, "larger than the limit")
        no_file = server.client.post("/api/v2/chat/addAttachment", files={"x": (None, "y")}, data=text)
        refused(no_file, 422, "a file is required in the multipart field 'file'")
        as_json = server.client.post("/api/v2/chat/addAttachment", json=text)
        refused(as_json, 422, "multipart/form-data")
        no_token = server.client.post(
            "/api/v2/chat/addAttachment",
            files={"file": ("a.txt", b"hi", "text/plain")},
            data={"chatServer": chat_server.url, "sessionID": "s-1"},
        )
        refused(no_token, 422, "chatAccountToken is required")
        unknown_session = server.client.post(
            "/api/v2/chat/addAttachment",
            files={"file": ("a.txt", b"hi", "text/plain")},
            data=text | {"sessionID": "nope"},
        )
        refused(unknown_session, 404, "no chat session 'nope'", "notifyUserNewChatMessage")
        files = server.store.read_sync(
            lambda uow: uow.db.execute("SELECT COUNT(*) AS n FROM files").fetchone()["n"]
        )
        assert files == 0
        assert [p for p in (Path(server.settings.data_dir) / "files").rglob("*") if p.is_file()] == []


def test_a_department_that_can_take_nobody_refuses_the_chat(
    server: RunningServer, chat_server: ChatServer
) -> None:
    world = make_world(server, queue=False)
    answer = server.client.post(MESSAGE, data=fields(world, chat_server.url))
    refused(answer, 409, "no agent of department", "(Support) is online and its queue is off")
    nothing_written(server, world)
    world.presence("online")
    ticket_of(server.client.post(MESSAGE, data=fields(world, chat_server.url)))


def test_a_body_over_the_limit_is_refused(tmp_path: Path) -> None:
    with start_server(tmp_path, max_body_bytes=2000) as server, ChatServer() as chat_server:
        world = make_world(server)
        answer = server.client.post(MESSAGE, data=fields(world, chat_server.url, message="x" * 5000))
        refused(answer, 413, "larger than 2000 bytes")
        nothing_written(server, world)
