"""uvicorn's websocket protocol on the ``websockets`` sans-I/O layer, holding less for every open socket.

An idle socket is most sockets (design.md budgets one at about 20 KB of server memory), and what uvicorn's
``websockets-sansio`` protocol keeps per socket was most of it (tracemalloc, 1000 idle sockets): an
``asyncio.Queue`` for the messages to the app (three deques, about 2.3 KB), an ``asyncio.Event`` for
write flow control (about 1.5 KB), and the handshake's parsed request and response with their headers
(about 3.5 KB) kept for as long as the socket is open. This subclass swaps the first two for a list and a
future made only while someone waits, and lets go of the handshake once the app has answered it. The
behaviour (frames, close codes, keepalive pings, flow control) is uvicorn's own.

It subclasses uvicorn's class and replaces two of its attributes (``queue``, ``writable``) with objects
of the same interface, so uvicorn is pinned to the minor version this was written against.
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.exceptions import InvalidState


class _Inbox:
    """What ``asyncio.Queue`` is used for here (put_nowait, get, empty): a list and at most one waiter."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> Any:
        while not self._items:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                if self._waiter is waiter:
                    self._waiter = None
        return self._items.pop(0)


class _Gate:
    """What ``asyncio.Event`` is used for here (set, clear, wait): open unless the transport paused
    writing; futures exist only while it is closed and someone waits."""

    __slots__ = ("_open", "_waiters")

    def __init__(self) -> None:
        self._open = True
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._open

    def set(self) -> None:
        self._open = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._open = False

    async def wait(self) -> None:
        while not self._open:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if self._waiters is not None and waiter in self._waiters:
                    self._waiters.remove(waiter)


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's ``ws`` option for ``helpline serve`` (and the bench's floor, which runs the same stack)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.queue = _Inbox()  # type: ignore[assignment]
        self.writable = _Gate()  # type: ignore[assignment]

    async def send(self, message: Any) -> None:
        await super().send(message)
        # The handshake is answered (accepted, refused or answered with HTTP): its parsed request and the
        # response built for it are not read again.
        request = getattr(self, "request", None)
        if self.handshake_complete and request is not None:
            # The sans-I/O parser's generator keeps the request object alive as a local for as long as
            # the connection is open; its headers (the bulk of it) are emptied instead.
            request.headers.clear()
            self.request = None  # type: ignore[assignment]
            self.response = None  # type: ignore[assignment]

    def send_text_now(self, text: str) -> bool:
        """Write a text frame at once, as :meth:`send` writes ``websocket.send``, when nothing stands in
        the way: an accepted socket, open, whose transport has not paused writing. False, with nothing
        written, when something does: then :meth:`send` is the way (it waits, or raises what is wrong).

        The hub's frames go out this way without a task and five coroutines per frame each.
        """
        if (
            not self.handshake_complete
            or self.initial_response is not None
            or self.close_sent
            or self.disconnected
            or not self.writable.is_set()
            or self.transport.is_closing()
        ):
            return False
        try:
            self.conn.send_text(text.encode())
        except InvalidState:
            return False
        self.transport.write(b"".join(self.conn.data_to_send()))
        return True


def forget_handshake_headers(scope: MutableMapping[str, Any]) -> None:
    """Drop the handshake's headers from an accepted socket's scope (about 1.5 KB of a browser's, held by
    the protocol for as long as the socket is open): for apps that have read what they need of them."""
    scope["headers"] = []
