"""The SSRF guard: every URL the server calls on someone's behalf passes here, at connect time.

The host is resolved once, every address it resolves to is checked, and the connection is then made to
a checked address (never re-resolving), so a DNS answer that changes between the check and the connect
(DNS rebinding) cannot slip past. The ``Host`` header and TLS (SNI and certificate check) keep the
original hostname: that part is done by :mod:`helpline.outbound.http`, which asks this guard for the
addresses it may connect to.

Loopback, private, link-local, multicast, unspecified, reserved and otherwise non-global addresses are
refused, and so are IPv6 addresses that embed such an IPv4 address (IPv4-mapped, 6to4, Teredo, NAT64),
unless the operator allow-lists a network that contains them (``HELPLINE_OUTBOUND_ALLOW``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence

import httpx

from helpline.config import Network

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""``(host, port) -> addresses``; the default asks the system resolver through the event loop."""

ALLOW_VARIABLE = "HELPLINE_OUTBOUND_ALLOW"
SCHEMES = ("http", "https")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class OutboundRefused(Exception):
    """The guard refused a URL or an address; ``message`` says which and how to allow it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _reason_v4(address: ipaddress.IPv4Address) -> str | None:
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "non-public"
    return None


def refusal_reason(address: IPAddress) -> str | None:
    """Why this address may not be called (``"loopback"``, ``"private"``...), or ``None`` when it may."""
    if isinstance(address, ipaddress.IPv4Address):
        return _reason_v4(address)
    mapped = address.ipv4_mapped
    if mapped is not None:  # ::ffff:a.b.c.d is a.b.c.d on a dual-stack socket
        inner = _reason_v4(mapped)
        return f"IPv4-mapped {inner}" if inner else None
    embedded: list[tuple[str, ipaddress.IPv4Address]] = []
    if address.sixtofour is not None:
        embedded.append(("6to4", address.sixtofour))
    if address.teredo is not None:
        server, client = address.teredo
        embedded.extend([("Teredo", server), ("Teredo", client)])
    if address in _NAT64:
        embedded.append(("NAT64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)))
    for kind, inner_address in embedded:
        inner = _reason_v4(inner_address)
        if inner:
            return f"{kind} address embedding a {inner} IPv4 address ({inner_address})"
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_site_local:
        return "site-local"
    if address.is_multicast:
        return "multicast"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "non-public"
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


class OutboundGuard:
    """Decides which addresses the server may connect to on someone's behalf."""

    def __init__(self, allow: Iterable[Network] = (), resolver: Resolver | None = None) -> None:
        self.allow: tuple[Network, ...] = tuple(allow)
        self._resolve = resolver or system_resolver

    def is_allow_listed(self, address: IPAddress) -> bool:
        if any(address in network for network in self.allow):
            return True
        mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
        return mapped is not None and any(mapped in network for network in self.allow)

    def check_address(self, address: IPAddress, host: str | None = None) -> None:
        """Raise :class:`OutboundRefused` unless the server may connect to ``address``."""
        reason = refusal_reason(address)
        if reason is None or self.is_allow_listed(address):
            return
        bits = 32 if address.version == 4 else 128
        named = f"{host} resolves to {address}" if host and host != str(address) else f"address {address}"
        article = "an" if reason[0] in "aeiouAEIOU" else "a"
        raise OutboundRefused(
            f"refused to connect: {named}, {article} {reason} address; outbound calls to loopback, private, "
            f"link-local, multicast and reserved addresses are blocked (SSRF guard). To allow it, add "
            f"{address}/{bits} or its network to {ALLOW_VARIABLE}"
        )

    def check_url(self, url: str | httpx.URL) -> httpx.URL:
        """Parse ``url`` and refuse anything but an absolute http(s) URL with a host."""
        try:
            parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError) as error:
            raise OutboundRefused(f"refused to call {url!r}: not a valid URL ({error})") from None
        if parsed.scheme not in SCHEMES:
            shown = parsed.scheme or "no scheme"
            raise OutboundRefused(f"refused to call {url!s}: only http and https URLs are allowed ({shown})")
        if not parsed.host:
            raise OutboundRefused(f"refused to call {url!s}: the URL has no host")
        return parsed

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address ``host`` resolves to, each checked; refuses if any of them is refused."""
        literal = _literal(host)
        if literal is not None:
            self.check_address(literal)
            return [literal]
        try:
            found = await self._resolve(host, port)
        except OSError as error:
            raise OSError(f"could not resolve {host}: {error}") from error
        addresses: list[IPAddress] = []
        for text in found:
            address = ipaddress.ip_address(text)
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise OSError(f"could not resolve {host}: no addresses")
        for address in addresses:
            self.check_address(address, host)
        return addresses


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
