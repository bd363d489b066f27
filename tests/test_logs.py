"""Credentials in query strings never reach the server's log: checked on a real ``helpline serve`` process."""

from __future__ import annotations

import asyncio
import logging
import secrets
import sys
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).parent / "support"))

from helpline_cli import served

from helpline.logs import REDACTED, RedactSecrets, redact


def test_redact_replaces_each_secret_parameter_and_keeps_the_rest() -> None:
    line = '"GET /api/v1/departments?token=abc&page=2 HTTP/1.1" 200'
    assert redact(line) == f'"GET /api/v1/departments?token={REDACTED}&page=2 HTTP/1.1" 200'
    assert redact("/requestChatConfig?chatAccountToken=a&chatServerToken=b") == (
        f"/requestChatConfig?chatAccountToken={REDACTED}&chatServerToken={REDACTED}"
    )
    assert redact("/x?mytoken=keep&pageToken=keep") == "/x?mytoken=keep&pageToken=keep"
    assert redact("no query here") == "no query here"


def test_the_filter_redacts_arguments_and_tracebacks() -> None:
    try:
        raise ValueError("bad /ws?api_key=hunter2")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "%s", ("/a?access_token=hunter2",), sys.exc_info()
        )
    RedactSecrets().filter(record)
    assert "hunter2" not in record.getMessage()
    assert record.exc_text is not None
    assert "hunter2" not in record.exc_text
    assert "ValueError" in record.exc_text


def test_no_secret_from_any_query_string_reaches_the_log(tmp_path: Path) -> None:
    secret = {name: f"{name}-{secrets.token_hex(8)}" for name in ("v1", "sdk", "account", "server", "ws")}
    with served(tmp_path) as server:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            client.get(f"/api/v1/departments?token={secret['v1']}")
            client.get(f"/api/v1/sdk/conversations?access_token={secret['sdk']}")
            client.get(
                f"/requestChatConfig?chatAccountToken={secret['account']}&chatServerToken={secret['server']}"
            )

        async def knock() -> None:
            url = server.url.replace("http", "ws") + f"/api/agent/v1/ws?api_key={secret['ws']}"
            try:
                async with websockets.connect(url, open_timeout=5) as socket:
                    await socket.recv()
            except (websockets.exceptions.WebSocketException, OSError):
                pass

        asyncio.run(knock())
        log = server.stop()
    assert "/api/v1/departments?token=" in log, log  # the lines are there...
    assert "WebSocket /api/agent/v1/ws?api_key=" in log, log
    for value in secret.values():
        assert value not in log, log  # ...without what was secret in them
