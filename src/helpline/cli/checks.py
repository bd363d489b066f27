"""What the CLI can tell an operator before it bites: a webhook URL the server's SSRF guard will refuse,
a port another process already listens on."""

from __future__ import annotations

import asyncio
import errno
import socket

from helpline.config import Network
from helpline.outbound.guard import ALLOW_VARIABLE, OutboundGuard, OutboundRefused


def guard_warning(url: str, allow: tuple[Network, ...]) -> str | None:
    """Why the guard would refuse to call ``url`` with ``allow`` (this shell's ``HELPLINE_OUTBOUND_ALLOW``),
    or None. The server's own setting is what counts; this one is only the best guess the CLI has."""
    guard = OutboundGuard(allow)
    try:
        parsed = guard.check_url(url)
        asyncio.run(guard.resolve(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80)))
    except OutboundRefused as refused:
        return (
            f"{refused} — the webhook fails for good unless the server runs with {ALLOW_VARIABLE} covering it"
        )
    except OSError as problem:
        return f"{problem}: the server will not be able to call {url} either"
    return None


def port_problem(host: str, port: int) -> str | None:
    """Why ``serve`` could not listen on ``host:port``, found before anything starts, or None."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as problem:
        return f"cannot listen on {host}:{port}: {problem}"
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as problem:
            if problem.errno == errno.EADDRINUSE:
                return f"cannot listen on {host}:{port}: another process is using it (choose another with --port)"
            return f"cannot listen on {host}:{port}: {problem.strerror or problem}"
    return None
