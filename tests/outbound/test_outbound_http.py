"""The outbound client's caps: total time, bytes read, no redirects followed."""

from __future__ import annotations

import asyncio
import time

import pytest
from outbound_kit import LOOPBACK, Receiver, Reply

from helpline.outbound.guard import OutboundGuard
from helpline.outbound.http import BadStatus, OutboundFailed, OutboundHttp, OutboundTimeout, ResponseTooLarge


def client(**options: float) -> OutboundHttp:
    return OutboundHttp(OutboundGuard(LOOPBACK), **options)  # type: ignore[arg-type]


def test_post_json_sends_the_body_and_headers_and_reports_the_answer() -> None:
    async def go() -> None:
        async with Receiver([Reply(201, b'{"fine": true}')]) as receiver, client() as http:
            response = await http.post_json(receiver.url(), '{"a": "é"}', {"x-test": "1"})
            assert response.status == 201
            assert response.excerpt == '{"fine": true}'
            assert response.latency_ms > 0
            seen = receiver.seen[0]
            assert seen.method == "POST"
            assert seen.body == '{"a": "é"}'.encode()
            assert seen.headers["x-test"] == "1"
            assert seen.headers["user-agent"].startswith("Helpline/")

    asyncio.run(go())


def test_post_json_keeps_only_the_first_bytes_of_the_answer() -> None:
    async def go() -> None:
        huge = Reply(500, b"x" * 65536, chunks=200)  # 13 MB if it were all read
        async with Receiver([huge]) as receiver, client(excerpt_bytes=2048) as http:
            started = time.monotonic()
            response = await http.post_json(receiver.url(), "{}", {})
            assert response.status == 500
            assert response.excerpt == "x" * 2048
            assert time.monotonic() - started < 2

    asyncio.run(go())


def test_post_json_does_not_follow_redirects() -> None:
    async def go() -> None:
        async with Receiver() as target:
            moved = Reply(307, b"", {"location": target.url("/elsewhere")})
            async with Receiver([moved]) as receiver, client() as http:
                response = await http.post_json(receiver.url(), "{}", {})
                assert response.status == 307
                assert response.location == target.url("/elsewhere")
            assert target.seen == []

    asyncio.run(go())


def test_post_json_has_a_total_deadline() -> None:
    async def go() -> None:
        dribble = Reply(200, b"x", chunks=100, chunk_delay=0.05)  # each read is quick, the whole is not
        async with Receiver([dribble]) as receiver, client(timeout=0.3) as http:
            started = time.monotonic()
            with pytest.raises(OutboundTimeout):
                await http.post_json(receiver.url(), "{}", {})
            assert time.monotonic() - started < 1.5

    asyncio.run(go())


def test_connection_refused_is_a_failure() -> None:
    async def go() -> None:
        async with Receiver() as receiver:
            url = receiver.url()
        async with client() as http:
            with pytest.raises(OutboundFailed) as failed:
                await http.post_json(url, "{}", {})
            assert "ConnectError" in failed.value.message

    asyncio.run(go())


def test_get_returns_the_body() -> None:
    async def go() -> None:
        async with Receiver([Reply(200, b"[1, 2]")]) as receiver, client() as http:
            assert await http.get(receiver.url(), 100, 2.0) == b"[1, 2]"

    asyncio.run(go())


def test_get_refuses_a_declared_length_over_the_cap() -> None:
    async def go() -> None:
        async with Receiver([Reply(200, b"y" * 5000)]) as receiver, client() as http:
            with pytest.raises(ResponseTooLarge) as too_large:
                await http.get(receiver.url(), 1000, 2.0)
            assert "1000-byte limit" in too_large.value.message

    asyncio.run(go())


def test_get_stops_reading_an_undeclared_body_past_the_cap() -> None:
    async def go() -> None:
        endless = Reply(200, b"z" * 65536, chunks=2000)  # 130 MB, no content-length
        async with Receiver([endless]) as receiver, client() as http:
            started = time.monotonic()
            with pytest.raises(ResponseTooLarge):
                await http.get(receiver.url(), 100_000, 5.0)
            assert time.monotonic() - started < 2

    asyncio.run(go())


def test_get_at_exactly_the_cap_is_fine() -> None:
    async def go() -> None:
        async with Receiver([Reply(200, b"a" * 1000, chunks=3)]) as receiver, client() as http:
            assert await http.get(receiver.url(), 3000, 2.0) == b"a" * 3000

    asyncio.run(go())


def test_get_has_a_total_deadline() -> None:
    async def go() -> None:
        slow = Reply(200, b"late", delay=3.0)
        dribble = Reply(200, b"x", chunks=100, chunk_delay=0.05)
        async with Receiver([slow]) as a, Receiver([dribble]) as b, client() as http:
            for url in (a.url(), b.url()):
                started = time.monotonic()
                with pytest.raises(OutboundTimeout) as timed_out:
                    await http.get(url, 1_000_000, 0.3)
                assert time.monotonic() - started < 1.5
                assert "0.3 s" in timed_out.value.message

    asyncio.run(go())


def test_get_wants_a_2xx_and_follows_no_redirect() -> None:
    async def go() -> None:
        replies = [Reply(404, b"nope"), Reply(302, b"", {"location": "http://127.0.0.1:1/"})]
        async with Receiver(replies) as receiver, client() as http:
            with pytest.raises(BadStatus) as not_found:
                await http.get(receiver.url(), 100, 2.0)
            assert not_found.value.status == 404
            with pytest.raises(BadStatus) as redirect:
                await http.get(receiver.url(), 100, 2.0)
            assert redirect.value.status == 302
            assert "not followed" in redirect.value.message

    asyncio.run(go())
