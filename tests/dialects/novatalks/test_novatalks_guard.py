"""The SDK API from other sites' pages: CORS only for an inbox's allowed origins, the ``/ws`` handshake's
Origin check, rate limits and message size, the widget's settings, and the contact ending its chat."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpline_testing import RunningServer, start_server
from novatalks_kit import SdkWorld, make_world
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from helpline.core import inboxes, widget

SHOP = "https://shop.example"
EVIL = "https://evil.example"
SDK = "/api/v1/sdk"


def allow(server: RunningServer, department_id: int, *origins: str) -> None:
    server.store.write_sync(lambda uow: widget.configure(uow, department_id, add_origins=list(origins)))


def contacts(uow: Any) -> int:
    return int(uow.db.execute("SELECT COUNT(*) FROM contacts").fetchone()[0])


def create(server: RunningServer, world: SdkWorld, origin: str | None, name: str = "Ida") -> httpx.Response:
    headers = {"origin": origin} if origin else {}
    return server.client.post(
        f"{SDK}/conversations?inbox={world.identifier}", json={"name": name}, headers=headers
    )


def test_preflight_and_requests_answer_cors_only_for_allowed_origins(
    sdk_server: RunningServer, world: SdkWorld
) -> None:
    allow(sdk_server, world.department_id, SHOP + "/", "https://other.example:8443")
    preflight = sdk_server.client.options(
        f"{SDK}/conversations/messages?inbox={world.identifier}",
        headers={
            "origin": SHOP,
            "access-control-request-method": "POST",
            "access-control-request-headers": "access_token, content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == SHOP
    assert "access_token" in preflight.headers["access-control-allow-headers"]
    assert "x-inbox-identifier" in preflight.headers["access-control-allow-headers"]
    assert "PATCH" in preflight.headers["access-control-allow-methods"]

    refused = sdk_server.client.options(
        f"{SDK}/conversations?inbox={world.identifier}",
        headers={"origin": EVIL, "access-control-request-method": "POST"},
    )
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers

    opened = create(sdk_server, world, SHOP)
    assert opened.status_code == 200, opened.text
    assert opened.headers["access-control-allow-origin"] == SHOP
    assert opened.headers["vary"] == "Origin"
    token = opened.json()["payload"]["contactInbox"]["pubsubToken"]
    listed = sdk_server.client.get(
        f"{SDK}/conversations", headers={"origin": "https://other.example:8443", "access_token": token}
    )
    assert listed.status_code == 200
    assert listed.headers["access-control-allow-origin"] == "https://other.example:8443"

    # Another site: refused before anything happens, with a refusal the page's widget can read.
    stolen = sdk_server.client.get(f"{SDK}/conversations", headers={"origin": EVIL, "access_token": token})
    assert stolen.status_code == 403
    assert stolen.json()["message"].startswith(
        "this chat is not enabled for this site (https://evil.example)"
    )
    assert stolen.headers["access-control-allow-origin"] == EVIL
    before = sdk_server.store.read_sync(contacts)
    blocked = create(sdk_server, world, EVIL, name="Mallory")
    assert blocked.status_code == 403
    assert sdk_server.store.read_sync(contacts) == before

    # Apps and servers send no Origin: nothing changes for them.
    plain = create(sdk_server, world, None)
    assert plain.status_code == 200
    assert "access-control-allow-origin" not in plain.headers


def test_an_inbox_without_allowed_origins_refuses_browsers_and_star_admits_any(
    sdk_server: RunningServer, world: SdkWorld
) -> None:
    settings = sdk_server.client.get(f"{SDK}/settings?inbox={world.identifier}", headers={"origin": SHOP})
    assert settings.status_code == 403
    allow(sdk_server, world.department_id, "*")
    settings = sdk_server.client.get(f"{SDK}/settings?inbox={world.identifier}", headers={"origin": EVIL})
    assert settings.status_code == 200
    assert settings.headers["access-control-allow-origin"] == EVIL


def test_the_websocket_checks_the_origin_at_the_handshake_and_at_subscribe(
    sdk_server: RunningServer, world: SdkWorld
) -> None:
    allow(sdk_server, world.department_id, SHOP)
    other = sdk_server.add_department(world.account_id, "Other")
    sdk_server.store.write_sync(lambda uow: inboxes.set_open(uow, other, True))
    other_identifier = sdk_server.store.read_sync(lambda uow: uow.sdk.inboxes.get(other).identifier)
    foreign = sdk_server.client.post(f"{SDK}/conversations?inbox={other_identifier}", json={"name": "Olga"})
    foreign_token = foreign.json()["payload"]["contactInbox"]["pubsubToken"]
    mine = create(sdk_server, world, SHOP).json()["payload"]["contactInbox"]["pubsubToken"]
    url = f"{sdk_server.ws_url}/ws?inbox={world.identifier}"

    with pytest.raises(InvalidStatus) as refused:
        connect(url, origin=EVIL, open_timeout=5)  # type: ignore[arg-type]
    assert refused.value.response.status_code == 403

    with connect(url, origin=SHOP, open_timeout=5) as socket:  # type: ignore[arg-type]
        socket.send(
            json.dumps({"event": "subscribe", "data": {"pubsub_token": mine, "account_id": world.account_id}})
        )
        assert json.loads(socket.recv(timeout=5))["event"] == "confirm_subscription"

    # A token of an inbox that does not admit this site is refused at subscribe.
    with connect(url, origin=SHOP, open_timeout=5) as socket:  # type: ignore[arg-type]
        socket.send(
            json.dumps(
                {
                    "event": "subscribe",
                    "data": {"pubsub_token": foreign_token, "account_id": world.account_id},
                }
            )
        )
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=5)
        assert socket.close_code == 4403


def test_settings_carry_the_widget_and_long_messages_are_refused(
    sdk_server: RunningServer, world: SdkWorld
) -> None:
    sdk_server.store.write_sync(
        lambda uow: widget.configure(
            uow, world.department_id, greeting="Hello from Acme", color="#AA3300", prechat="email"
        )
    )
    settings = sdk_server.client.get(f"{SDK}/settings?inbox={world.identifier}").json()
    assert settings["widget"] == {"greeting": "Hello from Acme", "color": "#aa3300", "prechat": "email"}
    assert settings["max_message_chars"] == sdk_server.settings.sdk_max_message_chars
    assert settings["public_url"] == sdk_server.url
    assert settings["attachments"]["max_bytes"] == sdk_server.settings.max_upload_bytes
    token = create(sdk_server, world, None).json()["payload"]["contactInbox"]["pubsubToken"]
    too_long = "x" * (sdk_server.settings.sdk_max_message_chars + 1)
    refused = sdk_server.client.post(
        f"{SDK}/conversations/messages",
        json={"message": {"content": too_long, "echo_id": "e1"}},
        headers={"access_token": token},
    )
    assert refused.status_code == 400
    assert "at most" in refused.json()["message"]


def test_the_contact_ends_its_conversation(sdk_server: RunningServer, world: SdkWorld) -> None:
    token = create(sdk_server, world, None).json()["payload"]["contactInbox"]["pubsubToken"]
    for _ in range(2):  # ending twice is the same answer
        ended = sdk_server.client.post(f"{SDK}/conversations/resolve", headers={"access_token": token})
        assert ended.status_code == 200, ended.text
    current = sdk_server.client.get(f"{SDK}/conversations", headers={"access_token": token}).json()
    assert current["conversation"]["status"] == "resolved"
    assert sdk_server.client.post(f"{SDK}/conversations/resolve").status_code == 401


def test_rate_limits_answer_429_with_retry_after(tmp_path: Path) -> None:
    with start_server(tmp_path, sdk_conversations_per_address=3, sdk_messages_per_contact=4) as server:
        world = make_world(server)
        answers = [create(server, world, None).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        limited = create(server, world, None)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["message"].startswith("too many new conversations")
    with start_server(tmp_path / "b", sdk_messages_per_contact=4) as server:
        world = make_world(server)
        token = create(server, world, None).json()["payload"]["contactInbox"]["pubsubToken"]
        sent = [
            server.client.post(
                f"{SDK}/conversations/messages",
                json={"message": {"content": f"m{i}", "echo_id": f"e{i}"}},
                headers={"access_token": token},
            ).status_code
            for i in range(5)
        ]
        assert sent == [200, 200, 200, 200, 429]


def test_the_place_in_the_queue_while_waiting(sdk_server: RunningServer, world: SdkWorld) -> None:
    first = create(sdk_server, world, None).json()["payload"]["contactInbox"]["pubsubToken"]
    second = create(sdk_server, world, None).json()["payload"]["contactInbox"]["pubsubToken"]
    place = sdk_server.client.get(f"{SDK}/conversations/queue", headers={"access_token": second}).json()
    assert place["queue_position"] == 2
    assert (place["status"], place["substatus"]) == ("open", "inqueue")
    sdk_server.client.post(f"{SDK}/conversations/resolve", headers={"access_token": first})
    place = sdk_server.client.get(f"{SDK}/conversations/queue", headers={"access_token": second}).json()
    assert place["queue_position"] == 1
    ended = sdk_server.client.get(f"{SDK}/conversations/queue", headers={"access_token": first}).json()
    assert ended["queue_position"] is None
    assert ended["status"] == "resolved"
