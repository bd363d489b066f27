"""Websockets as plain ASGI apps: what an open socket keeps alive is only its own handler.

A socket's handler waits for the client for as long as the socket is open, and everything on its stack
waits with it. Behind Starlette that stack is the app, its error and exception middleware, the router, a
mount, the route and the ``WebSocket`` wrapper (measured: about 4.5 KB per idle socket); a second task
to read or write beside the handler costs another 1-2 KB. So:

- :class:`App` hands a websocket for a route with a literal path straight to that route's ASGI app; the
  route stays in the table (listings, documents) and everything else goes through Starlette as before;
- a socket's handler reads the client (``receive``) and nothing else, and :class:`SocketWriter` writes
  its outgoing frames from a task that exists only while there is something to write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from helpline.web.routing import flatten

log = logging.getLogger(__name__)


class App(Starlette):
    """Starlette, except that a websocket handshake for a route with a literal path skips the middleware
    and the router (``/metrics`` counts websockets from the hub, not from the middleware)."""

    def _direct(self) -> dict[str, ASGIApp]:
        direct: dict[str, ASGIApp] | None = getattr(self, "_direct_sockets", None)
        if direct is None:
            direct = {
                path: route.app
                for path, route in flatten(self.routes)
                if isinstance(route, WebSocketRoute) and "{" not in path
            }
            self._direct_sockets = direct
        return direct

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            path: str = scope["path"]
            root: str = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            app = self._direct().get(path)
            if app is not None:
                scope["app"] = self
                await app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


async def send_text(send: Send, text: str) -> None:
    await send({"type": "websocket.send", "text": text})


async def close(send: Send, code: int, reason: str = "") -> None:
    """Close the socket (before the accept: refuse the handshake, which uvicorn answers with 403)."""
    await send({"type": "websocket.close", "code": code, "reason": reason})


class SocketWriter:
    """A socket's outgoing frames, written in order by ``pump`` in a task started by :meth:`kick` and gone
    as soon as ``pump`` has nothing left to write: an idle socket has no writer task.

    ``pump`` writes until its sources are empty and returns without awaiting once they are, so a
    :meth:`kick` always finds either a running pump that will see the new work or none.
    """

    __slots__ = ("_pump", "_task")

    def __init__(self, pump: Callable[[], Awaitable[None]]) -> None:
        self._pump = pump
        self._task: asyncio.Task[None] | None = None

    def kick(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            await self._pump()
        except OSError:  # the client went away while a frame was written (uvicorn's ClientDisconnected)
            pass
        except Exception:
            log.exception("writing to a websocket failed")
        finally:
            self._task = None

    async def stop(self) -> None:
        """The socket is closed: stop writing (a pump waiting for the transport would wait in vain)."""
        task = self._task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
