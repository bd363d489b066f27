"""Websockets as plain ASGI apps: what an open socket keeps alive is only its own handler.

A socket's handler waits for the client for as long as the socket is open, and everything on its stack
waits with it. Behind Starlette that stack is the app, its error and exception middleware, the router, a
mount, the route and the ``WebSocket`` wrapper (measured: about 4.5 KB per idle socket); a second task
to read or write beside the handler costs another 1-2 KB. So:

- ``web.app.App`` hands a websocket for a route with a literal path straight to that route's ASGI app;
  the route stays in the table (listings, documents) and everything else goes through Starlette;
- a socket's handler reads the client (``receive``) and nothing else, and :class:`SocketWriter` writes
  its outgoing frames from a task that exists only while there is something to write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from starlette.types import Send

from helpline.web.websocket import LeanWebSocketProtocol

log = logging.getLogger(__name__)


def immediate_text_sender(send: Send) -> Callable[[str], bool] | None:
    """``send_text_now`` of the protocol behind ``send`` when it is Helpline's (``helpline serve``), to write
    a frame without a coroutine; None under another server (then frames go through ``send``)."""
    protocol = getattr(send, "__self__", None)
    return protocol.send_text_now if isinstance(protocol, LeanWebSocketProtocol) else None


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

    @property
    def busy(self) -> bool:
        """A pump is running: frames must go through it, or they could pass the ones it holds."""
        return self._task is not None

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
