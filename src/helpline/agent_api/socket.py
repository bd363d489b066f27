"""``/api/agent/v1/ws``: the agent's websocket, the hub's frames for what the agent may see, resumable
from a sequence number (``?after=``)."""

from __future__ import annotations

import asyncio
import contextlib

import msgspec
from starlette.websockets import WebSocket, WebSocketDisconnect

from helpline.agent_api import session
from helpline.core.errors import Unauthorized
from helpline.core.model import Role
from helpline.core.values import is_id
from helpline.realtime.hub import Overflowed, Subscriber, encode_event
from helpline.web.surface import ApiSurface

BACKLOG_LIMIT = 50_000


class AgentSocket(ApiSurface):
    async def websocket(self, websocket: WebSocket) -> None:
        key = session.credential(websocket.headers, websocket.query_params, websocket.cookies)
        raw_after = websocket.query_params.get("after")
        if (
            key is not None
            and key.kind == "session"
            and not session.same_origin(websocket.headers, self.services.settings)
        ):
            # A browser sends the cookie whichever page opens the socket: only our own pages may.
            await websocket.close(
                code=4403, reason="a session websocket must come from this server's console"
            )
            return
        try:
            if key is None:
                raise Unauthorized(session.MISSING)
            agent = await self.store.read(lambda uow: session.agent_for(uow, key))
        except Unauthorized:
            await websocket.close(code=4401, reason="invalid API key or session")
            return
        await websocket.accept()
        if raw_after is not None and not is_id(raw_after):
            # Accepted first, so the client reads the close code and why, not a bare refused handshake.
            await websocket.close(code=4400, reason="after must be a sequence number")
            return
        hub = self.services.hub
        subscriber = Subscriber(
            account_id=agent.account_id,
            agent_id=agent.id,
            department_ids=frozenset(agent.department_ids),
            is_admin=agent.role is Role.ADMIN,
        )
        hub.subscribe(subscriber)
        # The client's side is read by a task of its own, so that a socket the client closes ends the
        # writer below at once (its queue is closed), not at the next frame it would have been sent.
        reader = asyncio.create_task(self._drain_incoming(websocket))
        reader.add_done_callback(lambda _: subscriber.queue.close())
        try:
            last_sent = hub.last_seq
            if raw_after is not None:
                last_sent = await self._send_backlog(websocket, subscriber, int(raw_after))
            await websocket.send_text(
                msgspec.json.encode(
                    {"event": "ready", "data": {"last_seq": last_sent, "agent_id": agent.id}}
                ).decode()
            )
            await self._pump(websocket, subscriber, last_sent)
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            hub.unsubscribe(subscriber)
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader

    @staticmethod
    async def _pump(websocket: WebSocket, subscriber: Subscriber, last_sent: int) -> None:
        """Write the hub's frames in order, skipping what the backlog already sent, until the client goes
        (in the socket's own task: a writer task per socket would cost every idle socket its frames)."""
        while True:
            try:
                frames = await subscriber.queue.take()
            except Overflowed:
                await websocket.close(code=4008, reason="too far behind; reconnect with ?after=<last seq>")
                return
            if not frames:
                return
            for seq, frame in frames:
                if seq > last_sent:
                    await websocket.send_text(frame)
                    last_sent = seq

    async def _send_backlog(self, websocket: WebSocket, subscriber: Subscriber, after: int) -> int:
        """Replay what the agent may see after ``after``; say so when it is older than the log keeps."""
        first = await self.store.read(lambda uow: uow.events.first_seq())
        newest = self.services.hub.last_seq
        if (first and after < first - 1) or newest - after > BACKLOG_LIMIT:
            await websocket.send_text(
                msgspec.json.encode(
                    {"event": "resync_required", "data": {"oldest_seq": first, "last_seq": newest}}
                ).decode()
            )
            return newest
        last = after
        while True:
            page = await self.store.read(
                lambda uow, since=last: uow.events.after(since, 1000, subscriber.account_id)  # type: ignore[misc]
            )
            for event in page:
                if subscriber.wants(event):
                    await websocket.send_text(encode_event(event))
                last = event.seq
            if len(page) < 1000:
                return max(last, after)

    @staticmethod
    async def _drain_incoming(websocket: WebSocket) -> None:
        """Read what the client sends (pings) so a closed socket is noticed at once."""
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") and '"ping"' in message["text"]:
                await websocket.send_text('{"event":"pong"}')
