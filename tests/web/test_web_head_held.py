"""A response's head waits for its body (one send, not two): what that must not break, on a real server."""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1] / "support"))

from helpline_cli import served

from helpline.web.connections import HeadHeld


class Recording:
    """A transport that keeps what was written to it."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


class Cycle:
    response_started = False


def test_the_head_leaves_with_the_first_body_write_and_nothing_before_the_response_is_held() -> None:
    transport, cycle = Recording(), Cycle()
    held = HeadHeld(transport, cycle)  # type: ignore[arg-type]
    held.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # before the response: at once
    cycle.response_started = True
    held.write(b"HTTP/1.1 200 OK\r\n\r\n")
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    held.write(b"body")
    held.write(b"more")
    assert transport.writes[1:] == [b"HTTP/1.1 200 OK\r\n\r\nbody", b"more"]
    held.close()
    assert transport.closed


def test_a_head_with_no_body_leaves_on_flush_or_close() -> None:
    transport, cycle = Recording(), Cycle()
    held = HeadHeld(transport, cycle)  # type: ignore[arg-type]
    cycle.response_started = True
    held.write(b"HTTP/1.1 200 OK\r\n\r\n")
    held.close()
    assert transport.writes == [b"HTTP/1.1 200 OK\r\n\r\n"]
    assert held.is_closing()  # anything else is the transport's


def _exchange(sock: socket.socket, request: bytes) -> bytes:
    sock.sendall(request)
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(65536)
    head, _, rest = answer.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ),
        0,
    )
    if request.startswith(b"HEAD"):
        return head
    while len(rest) < length:
        rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest


def test_head_requests_expect_continue_and_kept_alive_connections_are_answered_whole(tmp_path: Path) -> None:
    with served(tmp_path) as server:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        with sock:
            head = _exchange(sock, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200")
            answer = _exchange(sock, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")  # the same connection
            assert answer.startswith(b"HTTP/1.1 200")
            assert answer.endswith(b'{"status":"ok"}')
            body = b'{"token": "nope", "content": "hi", "type": "text"}'
            sock.sendall(
                b"POST /api/v1/interactions/x/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Expect: 100-continue\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
            )
            assert sock.recv(65536).startswith(b"HTTP/1.1 100 Continue")  # not held back
            refused: Any = _exchange(sock, body)
            assert refused.startswith(b"HTTP/1.1 4")
        log = server.stop()
    assert "Traceback" not in log, log[-3000:]
