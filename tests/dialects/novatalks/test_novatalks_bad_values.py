"""Ids, numbers and bodies past what Helpline can hold get the SDK's 4xx naming the field; strangers get
401 before any word about the body; an oversized upload is refused while it streams."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import time
from pathlib import Path

import httpx
import pytest
from helpline_testing import RunningServer, start_server
from novatalks_kit import SdkWorld, make_world
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

HUGE = "99999999999999999999999"
MESSAGES = "/api/v1/sdk/conversations/messages"


def _refused(answer: httpx.Response, status: int, fragment: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"statusCode", "message", "error"}
    assert body["statusCode"] == status
    assert fragment in body["message"], body


@pytest.mark.parametrize("raw", [HUGE, "¹", "²"])
def test_path_ids_that_are_no_ids_are_not_found(world: SdkWorld, raw: str) -> None:
    contact = world.open()
    _refused(world.api.delete(f"{MESSAGES}/{raw}", headers=contact.headers), 404, "not found")
    _refused(
        world.api.post(f"{MESSAGES}/{raw}/reactions", json={"reaction": "x"}, headers=contact.headers),
        404,
        "not found",
    )


@pytest.mark.parametrize("name", ["before", "after", "limit", "updated_at"])
@pytest.mark.parametrize("raw", [HUGE, "¹", "1e400"])
def test_paging_numbers_that_are_no_numbers(world: SdkWorld, name: str, raw: str) -> None:
    contact = world.open()
    answer = world.api.get(MESSAGES, params={name: raw}, headers=contact.headers)
    _refused(answer, 400, name)
    _refused(
        world.api.get("/api/v1/sdk/conversations", params={"limit": raw}, headers=contact.headers),
        400,
        "limit",
    )


def test_message_ids_past_64_bits(world: SdkWorld) -> None:
    contact = world.open()
    answer = world.api.patch(
        f"{MESSAGES}/status", json={"status": "seen", "messageIds": [int(HUGE)]}, headers=contact.headers
    )
    _refused(answer, 400, "messageIds")


@pytest.mark.parametrize("path", ["/api/v1/sdk/conversations", MESSAGES])
def test_deep_json_is_refused(world: SdkWorld, path: str) -> None:
    contact = world.open()
    deep = b'{"name":"x","message":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    answer = world.api.post(
        path, content=deep, headers={**contact.headers, "content-type": "application/json"}
    )
    _refused(answer, 400, "nested more than")


def test_strangers_get_401_before_a_word_about_the_body(world: SdkWorld) -> None:
    for headers in ({}, {"access_token": "nope"}):
        _refused(world.api.post(MESSAGES, content=b"{oops", headers=headers), 401, "")
        _refused(world.api.get(MESSAGES, params={"limit": "¹"}, headers=headers), 401, "")
        _refused(world.api.patch(f"{MESSAGES}/status", json={"status": 1}, headers=headers), 401, "")


def test_other_methods_are_405_in_the_sdk_shape(world: SdkWorld) -> None:
    answer = world.api.request("PUT", MESSAGES)
    _refused(answer, 405, "PUT")
    assert answer.headers["allow"] == "GET, POST"


def test_an_upload_past_the_cap_is_refused_while_it_streams(tmp_path: Path) -> None:
    """The file part is capped as it arrives: the 413 comes before 2 MB of a 200 MB upload were sent."""
    cap = 512 * 1024
    with start_server(tmp_path, max_upload_bytes=cap) as server:
        world = make_world(server)
        contact = world.open()
        sent, answer = _stream_upload(server, contact.token, total=200 * 1024 * 1024)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"statusCode":413' in answer
    assert sent < 2 * 1024 * 1024, sent


def _stream_upload(server: RunningServer, token: str, total: int) -> tuple[int, bytes]:
    """Send a chunked multipart upload slowly; stop at the first byte of an answer. (bytes sent, answer)"""
    host, port = server.url.removeprefix("http://").split(":")
    boundary = "fuzzboundary"
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="attachments[]"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    chunk = b"\0" * (64 * 1024)
    sent = 0
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(
            (
                f"POST {MESSAGES} HTTP/1.1\r\nHost: {host}\r\naccess_token: {token}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                "Transfer-Encoding: chunked\r\n\r\n"
            ).encode()
        )
        conn.sendall(b"%x\r\n%s\r\n" % (len(head), head))
        deadline = time.monotonic() + 60
        while sent < total and time.monotonic() < deadline:
            readable, _, _ = select.select([conn], [], [], 0.005)
            if readable:
                break
            try:
                conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        answer = b""
        with contextlib.suppress(OSError):
            while not answer.endswith(b"}") and len(answer) < 65536:
                part = conn.recv(65536)
                if not part:
                    break
                answer += part
    return sent, answer


@pytest.mark.parametrize(
    ("resume", "frame"),
    [
        ({"after": int(HUGE)}, None),
        ({"after": "1e400"}, None),
        ({"after": "¹"}, None),
        ({"updated_at": HUGE}, None),
        ({}, "[" * 100_000 + "]" * 100_000),
    ],
)
def test_websocket_values_past_what_helpline_holds_close_4400(
    world: SdkWorld, resume: dict[str, object], frame: str | None
) -> None:
    contact = world.open()
    subscribe = {"event": "subscribe", "data": {"pubsub_token": contact.token, **resume}}
    with connect(f"{world.server.ws_url}/ws", open_timeout=5) as connection:
        connection.send(frame if frame is not None else json.dumps(subscribe))
        with pytest.raises(ConnectionClosed) as closed:
            connection.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4400
