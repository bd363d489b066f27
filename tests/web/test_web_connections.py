"""Slow clients against a real ``helpline serve`` with the usual 1024 open-file limit (loopback, bounded)."""

from __future__ import annotations

import contextlib
import resource
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "support"))

from helpline_cli import Served, served

from helpline.web.connections import connection_limit

SLOW = 1100  # more than the server's 1024 files


@pytest.fixture
def many_files() -> Iterator[None]:
    """This test process opens over a thousand sockets itself."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = SLOW + 512
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.fail(f"this test needs {wanted} open files; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def slow_head(port: int) -> socket.socket:
    """A connection that starts a request and never finishes its head."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    return sock


def health_seconds(server: Served) -> float:
    started = time.monotonic()
    answer = httpx.get(server.url + "/healthz", timeout=5)
    assert answer.status_code == 200
    return time.monotonic() - started


def closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionError:
        return True


@pytest.mark.timeout(120)
@pytest.mark.usefixtures("many_files")
def test_a_flood_of_slow_heads_leaves_healthz_answering(tmp_path: Path) -> None:
    with served(tmp_path, file_limit=1024) as server, contextlib.ExitStack() as opened:
        sockets = []
        for count in range(SLOW):
            sockets.append(opened.enter_context(slow_head(server.port)))
            if count % 275 == 274:
                assert health_seconds(server) < 2.0
        time.sleep(0.5)
        assert max(health_seconds(server) for _ in range(5)) < 2.0
        # The server kept its own connections under its limit by closing the oldest slow ones.
        dropped = sum(closed_within(sock, 0.01) for sock in sockets[:200])
        assert dropped > 0
        log = server.stop()
    assert "Too many open files" not in log, log[-3000:]
    assert "Traceback" not in log, log[-3000:]


def test_slow_heads_and_stalled_bodies_time_out(tmp_path: Path) -> None:
    env = {"HELPLINE_HEAD_TIMEOUT": "1", "HELPLINE_BODY_TIMEOUT": "1"}
    with (
        served(tmp_path, env=env) as server,
        slow_head(server.port) as head,
        socket.create_connection(("127.0.0.1", server.port), timeout=5) as body,
    ):
        body.sendall(
            b"POST /api/v1/interactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 500\r\n\r\n{"token": '
        )
        started = time.monotonic()
        assert closed_within(head, 5)
        assert closed_within(body, 5)
        assert time.monotonic() - started < 5
        assert health_seconds(server) < 2.0  # a quick request on a new connection is unaffected
        log = server.stop()
    assert "Traceback" not in log, log


def test_a_client_that_hangs_up_mid_body_logs_no_traceback(tmp_path: Path) -> None:
    paths = ["/api/v1/interactions", "/api/agent/v1/conversations/1/messages", "/api/v2/chat/addAttachment"]
    with served(tmp_path) as server:
        for _ in range(10):
            for path in paths:
                with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                    sock.sendall(
                        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        'Content-Length: 1000\r\n\r\n{"a": '.encode()
                    )
                    time.sleep(0.02)
        time.sleep(0.5)
        assert health_seconds(server) < 2.0
        log = server.stop()
    assert "Traceback" not in log, log[-3000:]
    assert "Exception in ASGI application" not in log


def test_the_connection_limit_leaves_room_below_the_file_limit() -> None:
    assert connection_limit(1024) == 1024 - 128
    assert connection_limit(100_000) == 90_000
    assert connection_limit(100) >= 16
