"""Numbers past 64 bits, deep JSON and other methods get Omnidesk's own refusal, never a server error."""

from __future__ import annotations

import pytest
from helpline_testing import RunningServer
from omnidesk_kit import SEED_URL, make_world

HUGE = "99999999999999999999999"


@pytest.mark.parametrize("brand", [HUGE, int(HUGE)])
def test_a_brand_id_past_64_bits_is_refused_naming_it(server: RunningServer, brand: object) -> None:
    world = make_world(server)
    answer = server.client.post(
        "/api/v2/message/chatbot",
        json={
            "from": "a@b.test",
            "message": "log",
            "brandID": brand,
            "chatAccountToken": world.account_token,
        },
    )
    assert answer.status_code == 422
    assert answer.json()["result"] == "error"
    assert "brandID" in answer.json()["message"]


def test_a_channel_id_past_64_bits_is_refused_naming_it(server: RunningServer) -> None:
    world = make_world(server)
    answer = world.message("s1", "127.0.0.1:9", "hi", channelID=HUGE)
    assert answer.status_code == 422
    assert answer.json()["type"] == "error"
    assert "channelID" in answer.json()["message"]


def test_deep_json_is_refused(server: RunningServer) -> None:
    world = make_world(server)
    deep = (
        b'{"chatAccountToken":"'
        + world.account_token.encode()
        + b'","url":'
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}"
    )
    answer = server.client.post(
        "/api/v2/chat/notifyUserNewChatMessage", content=deep, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422
    assert answer.json()["type"] == "error"
    assert "nested more than" in answer.json()["message"]


def test_other_methods_are_405_in_each_shape(server: RunningServer) -> None:
    chat = server.client.get("/api/v2/chat/notifyUserNewChatMessage", params={"url": SEED_URL})
    assert (chat.status_code, chat.headers["allow"], chat.json()["type"]) == (405, "POST", "error")
    bot = server.client.put("/api/v2/message/chatbot")
    assert (bot.status_code, bot.headers["allow"], bot.json()["result"]) == (405, "POST", "error")
