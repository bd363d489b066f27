"""The SSRF guard, on its own and at connect time through the real HTTP client."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest
from outbound_kit import LOOPBACK, Pki, Receiver, static_resolver

from helpline.config import parse_networks
from helpline.outbound.guard import OutboundGuard, OutboundRefused, refusal_reason
from helpline.outbound.http import OutboundFailed, OutboundHttp

REFUSED = {
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "192.168.1.1": "private",
    "169.254.169.254": "link-local",
    "100.64.0.1": "non-public",
    "0.0.0.0": "unspecified",
    "224.0.0.1": "multicast",
    "240.0.0.1": "private",
    "::1": "loopback",
    "::": "unspecified",
    "fe80::1": "link-local",
    "fc00::1": "private",
    "ff02::1": "multicast",
    "::ffff:127.0.0.1": "IPv4-mapped loopback",
    "::ffff:7f00:2": "IPv4-mapped loopback",
    "::ffff:10.0.0.1": "IPv4-mapped private",
    "2002:7f00:1::1": "6to4 address embedding a loopback",
    "2002:a00:1::1": "6to4 address embedding a private",
    "2001:0:4136:e378:8000:63bf:80ff:fffe": "Teredo address embedding a loopback",
    "64:ff9b::a00:1": "NAT64 address embedding a private",
}

ALLOWED = ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "2002:5db8:d822::1"]


@pytest.mark.parametrize(("text", "reason"), REFUSED.items())
def test_refuses_non_public_addresses(text: str, reason: str) -> None:
    address = ipaddress.ip_address(text)
    found = refusal_reason(address)
    assert found is not None
    assert found.startswith(reason)
    with pytest.raises(OutboundRefused) as refused:
        OutboundGuard().check_address(address)
    assert str(address) in refused.value.message
    assert "HELPLINE_OUTBOUND_ALLOW" in refused.value.message


@pytest.mark.parametrize("text", ALLOWED)
def test_lets_public_addresses_through(text: str) -> None:
    OutboundGuard().check_address(ipaddress.ip_address(text))


def test_allow_list_lets_its_networks_through_and_nothing_else() -> None:
    guard = OutboundGuard(parse_networks("127.0.0.0/8, 10.0.0.0/8, ::1"))
    for text in ("127.0.0.1", "127.5.5.5", "10.200.0.1", "::1", "::ffff:127.0.0.1"):
        guard.check_address(ipaddress.ip_address(text))
    for text in ("192.168.1.1", "169.254.169.254", "fc00::1", "::ffff:192.168.0.1"):
        with pytest.raises(OutboundRefused):
            guard.check_address(ipaddress.ip_address(text))


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/x",
        "file:///etc/passwd",
        "gopher://example.org/",
        "javascript:alert(1)",
        "example.org/x",
    ],
)
def test_only_http_and_https_urls(url: str) -> None:
    with pytest.raises(OutboundRefused) as refused:
        OutboundGuard().check_url(url)
    assert "only http and https" in refused.value.message


def test_url_without_host_is_refused() -> None:
    with pytest.raises(OutboundRefused):
        OutboundGuard().check_url("http:///path")


def test_resolve_checks_every_address() -> None:
    guard = OutboundGuard(resolver=static_resolver({"mixed.test": ["93.184.216.34", "127.0.0.1"]}))
    with pytest.raises(OutboundRefused) as refused:
        asyncio.run(guard.resolve("mixed.test", 80))
    assert "mixed.test resolves to 127.0.0.1" in refused.value.message


# -- at connect time, through the client -----------------------------------------------------------


def _refused_get(url_of: str, allow: str = "") -> tuple[str, int]:
    """GET through a client with ``allow``; returns the refusal message and what the receiver saw."""

    async def go() -> tuple[str, int]:
        async with Receiver() as receiver, OutboundHttp(OutboundGuard(parse_networks(allow))) as http:
            with pytest.raises(OutboundRefused) as refused:
                await http.get(url_of.format(port=receiver.port), 1000, 2.0)
            return refused.value.message, len(receiver.seen)

    return asyncio.run(go())


def test_client_refuses_loopback_literal() -> None:
    message, seen = _refused_get("http://127.0.0.1:{port}/x")
    assert seen == 0
    assert "127.0.0.1" in message
    assert "HELPLINE_OUTBOUND_ALLOW" in message


def test_client_refuses_ipv6_loopback_and_mapped_literals() -> None:
    for url in ("http://[::1]:{port}/x", "http://[::ffff:127.0.0.1]:{port}/x"):
        message, seen = _refused_get(url)
        assert seen == 0
        assert "loopback" in message


def test_client_refuses_private_and_link_local_literals() -> None:
    for url in ("http://10.0.0.1:{port}/x", "http://169.254.169.254/latest/meta-data/"):
        message, _ = _refused_get(url)
        assert "refused" in message


def test_client_refuses_a_hostname_that_resolves_to_loopback() -> None:
    message, seen = _refused_get("http://localhost:{port}/x")
    assert seen == 0
    assert "localhost resolves to" in message


def test_client_refuses_other_spellings_of_loopback() -> None:
    for host in ("2130706433", "127.1", "0x7f.1", "017700000001"):
        message, seen = _refused_get(f"http://{host}:{{port}}/x")
        assert seen == 0
        assert f"{host} resolves to 127.0.0.1" in message


def test_client_refuses_non_http_schemes() -> None:
    message, _ = _refused_get("file:///etc/passwd")
    assert "only http and https" in message


def test_allow_listed_loopback_goes_through() -> None:
    async def go() -> None:
        async with Receiver() as receiver, OutboundHttp(OutboundGuard(LOOPBACK)) as http:
            assert await http.get(receiver.url("/a"), 1000, 2.0) == b"ok"
            # localhost may resolve to ::1 first: the receiver only listens on 127.0.0.1, so the client
            # falls back to the next checked address.
            assert await http.get(receiver.url("/b", host="localhost"), 1000, 2.0) == b"ok"
            assert [s.path for s in receiver.seen] == ["/a", "/b"]

    asyncio.run(go())


def test_connects_to_the_checked_address_and_keeps_the_host_header() -> None:
    """The hostname is resolved once by the guard (the system resolver has never heard of it) and the
    request still names it, so virtual hosts and TLS work while the address is pinned."""
    calls: list[str] = []
    table = static_resolver({"hook.test": ["127.0.0.1"]})

    async def counting(host: str, port: int) -> list[str]:
        calls.append(host)
        return await table(host, port)

    async def go() -> None:
        async with Receiver() as receiver:
            guard = OutboundGuard(LOOPBACK, resolver=counting)
            async with OutboundHttp(guard) as http:
                assert await http.get(receiver.url("/p", host="hook.test"), 1000, 2.0) == b"ok"
            assert receiver.seen[0].headers["host"] == f"hook.test:{receiver.port}"
        assert calls == ["hook.test"]

    asyncio.run(go())


def test_a_hostname_is_checked_again_on_every_new_connection() -> None:
    """DNS rebinding: the name first answers an allowed address, then a refused one; the new connection
    made after the change is refused, whatever the first answer was."""
    answers = [["127.0.0.1"], ["127.0.0.2"]]

    async def rebinding(host: str, port: int) -> list[str]:
        return answers.pop(0)

    async def go() -> None:
        async with Receiver() as first, Receiver() as second:
            guard = OutboundGuard(parse_networks("127.0.0.1/32"), resolver=rebinding)
            async with OutboundHttp(guard) as http:
                assert await http.get(first.url(host="rebind.test"), 1000, 2.0) == b"ok"
                with pytest.raises(OutboundRefused) as refused:
                    await http.get(second.url(host="rebind.test"), 1000, 2.0)
            assert "rebind.test resolves to 127.0.0.2" in refused.value.message
            assert len(first.seen) == 1
            assert second.seen == []

    asyncio.run(go())


def test_tls_uses_the_hostname_for_sni_and_certificate_checks(pki: Pki) -> None:
    resolver = static_resolver({"hook.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})

    async def go() -> None:
        async with Receiver(ssl_context=pki.server_context("hook.test")) as receiver:
            http = OutboundHttp(OutboundGuard(LOOPBACK, resolver=resolver), ssl_context=pki.client_context())
            async with http:
                assert await http.get(receiver.url(host="hook.test"), 1000, 2.0) == b"ok"
                assert receiver.seen[0].sni == "hook.test"
                assert receiver.seen[0].headers["host"] == f"hook.test:{receiver.port}"
                with pytest.raises(OutboundFailed) as failed:
                    await http.get(receiver.url(host="other.test"), 1000, 2.0)
                assert "certificate" in failed.value.message.lower()

    asyncio.run(go())
