"""Fetching a JSON document (Omnize's external history) through the guarded client."""

from __future__ import annotations

import asyncio

import pytest
from outbound_kit import LOOPBACK, Receiver, Reply

from helpline.outbound.fetch import FetchFailed, fetch_json, with_scheme
from helpline.outbound.guard import OutboundGuard
from helpline.outbound.http import OutboundHttp


def test_with_scheme_assumes_https() -> None:
    assert with_scheme("chathistory.example.org") == "https://chathistory.example.org"
    assert (
        with_scheme("chathistory.example.org/h?next=http://x")
        == "https://chathistory.example.org/h?next=http://x"
    )
    assert with_scheme("//cdn.example.org/h.json") == "https://cdn.example.org/h.json"
    assert with_scheme("http://example.org/h") == "http://example.org/h"
    assert with_scheme(" https://example.org/h ") == "https://example.org/h"


def _fetch(reply: Reply, allow: bool = True, max_bytes: int = 10_000, timeout: float = 2.0) -> object:
    async def go() -> object:
        guard = OutboundGuard(LOOPBACK if allow else ())
        async with Receiver([reply]) as receiver, OutboundHttp(guard) as http:
            return await fetch_json(http, receiver.url("/history.json"), max_bytes, timeout)

    return asyncio.run(go())


def test_fetches_and_parses_json() -> None:
    assert _fetch(Reply(200, b'[{"content": "hi"}]')) == [{"content": "hi"}]


@pytest.mark.parametrize(
    ("reply", "options", "words"),
    [
        (Reply(200, b"[]"), {"allow": False}, "refused"),
        (Reply(200, b"[]", delay=2.0), {"timeout": 0.2}, "timed out after 0.2 s"),
        (Reply(200, b"[" + b"1," * 10_000 + b"1]"), {}, "larger than the 10000-byte limit"),
        (Reply(404, b"missing"), {}, "HTTP 404"),
        (Reply(200, b"<html>not json</html>"), {}, "is not JSON"),
    ],
)
def test_failures_say_why(reply: Reply, options: dict[str, object], words: str) -> None:
    with pytest.raises(FetchFailed) as failed:
        _fetch(reply, **options)  # type: ignore[arg-type]
    assert words in failed.value.message


def test_a_url_without_scheme_is_fetched_over_https() -> None:
    """The plain-HTTP receiver cannot talk TLS, so the attempt fails: proof that https was used."""

    async def go() -> None:
        async with Receiver() as receiver, OutboundHttp(OutboundGuard(LOOPBACK)) as http:
            with pytest.raises(FetchFailed) as failed:
                await fetch_json(http, f"127.0.0.1:{receiver.port}/h", 1000, 0.5)
            assert f"https://127.0.0.1:{receiver.port}/h" in failed.value.message

    asyncio.run(go())
