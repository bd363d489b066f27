"""The agent API refuses ids past 64 bits and unicode digits in its own shape; strangers get 401 first;
other methods get its 405; the websocket closes 4400 on an ``after`` that is no sequence number."""

from __future__ import annotations

import pytest
from helpline_testing import RunningServer
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

AGENT = "/api/agent/v1"
HUGE = "99999999999999999999999"


def _error(answer: object, status: int) -> str:
    assert answer.status_code == status, answer.text  # type: ignore[attr-defined]
    body = answer.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert body["error"]["status"] == status
    message: str = body["error"]["message"]
    return message


def _conversation(server: RunningServer, setup: dict[str, object]) -> str:
    started = server.client.post(
        "/api/v1/interactions", json={"token": setup["token"], "department_id": setup["department_id"]}
    )
    return str(started.json()["data"]["interaction_hash"])


@pytest.mark.parametrize("raw", [HUGE, "¹", "²"])
def test_conversation_ids_that_are_no_ids_are_not_found(server: RunningServer, raw: str) -> None:
    headers = server.agent_headers(server.setup_account()["api_key"])
    assert "not found" in _error(server.client.get(f"{AGENT}/conversations/{raw}", headers=headers), 404)
    assert "not found" in _error(
        server.client.post(f"{AGENT}/conversations/{raw}/accept", headers=headers), 404
    )


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("transfer", {"agent_id": int(HUGE)}, "agent_id"),
        ("transfer", {"department_id": int(HUGE)}, "department_id"),
        ("seen", {"up_to": int(HUGE)}, "up_to"),
        ("delivered", {"up_to": int(HUGE)}, "up_to"),
        ("messages", {"content": "x", "reply_to": int(HUGE)}, "reply_to"),
        ("messages", {"content": "x", "content_type": "image", "url": "http://[x"}, "url"),
    ],
)
def test_body_numbers_past_64_bits_are_refused_naming_the_field(
    server: RunningServer, action: str, body: dict[str, object], field: str
) -> None:
    setup = server.setup_account()
    conversation = _conversation(server, setup)
    headers = server.agent_headers(str(setup["api_key"]))
    answer = server.client.post(f"{AGENT}/conversations/{conversation}/{action}", json=body, headers=headers)
    assert field in _error(answer, 422)


@pytest.mark.parametrize("raw", ["¹", HUGE, "0"])
def test_a_limit_that_is_no_number_is_refused(server: RunningServer, raw: str) -> None:
    headers = server.agent_headers(server.setup_account()["api_key"])
    assert "limit" in _error(
        server.client.get(f"{AGENT}/conversations", params={"limit": raw}, headers=headers), 422
    )


def test_strangers_get_401_before_a_word_about_the_body(server: RunningServer) -> None:
    server.setup_account()
    for headers in ({}, {"authorization": "Bearer nope"}):
        for answer in (
            server.client.put(f"{AGENT}/presence", content=b"{oops", headers=headers),
            server.client.put(f"{AGENT}/presence", json={"status": "asleep"}, headers=headers),
            server.client.post(f"{AGENT}/conversations/x/messages", json={"content": 5}, headers=headers),
            server.client.get(f"{AGENT}/conversations", params={"limit": "¹"}, headers=headers),
        ):
            _error(answer, 401)


def test_signing_out_without_credentials_is_401(server: RunningServer) -> None:
    _error(server.client.delete(f"{AGENT}/session"), 401)
    _error(server.client.delete(f"{AGENT}/session", headers={"authorization": "Bearer nope"}), 401)
    key = server.setup_account()["api_key"]
    assert server.client.delete(f"{AGENT}/session", headers=server.agent_headers(key)).status_code == 200


def test_other_methods_are_405_in_the_agent_shape(server: RunningServer) -> None:
    answer = server.client.put(f"{AGENT}/conversations/1/messages")
    assert "PUT" in _error(answer, 405)
    assert answer.headers["allow"] == "GET, POST"
    assert server.client.patch(f"{AGENT}/session").headers["allow"] == "POST, DELETE"


@pytest.mark.parametrize("after", [HUGE, "¹", "-1", "x"])
def test_websocket_after_that_is_no_sequence_number_closes_4400(server: RunningServer, after: str) -> None:
    key = server.setup_account()["api_key"]
    url = f"{server.ws_url}{AGENT}/ws?api_key={key}&after={after}"
    with pytest.raises(ConnectionClosed) as closed, connect(url, open_timeout=5) as socket:
        socket.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4400
