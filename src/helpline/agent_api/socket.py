"""``/api/agent/v1/ws``: the agent's websocket, the hub's frames for what the agent may see, resumable
from a sequence number (``?after=``).

A plain ASGI app (see :mod:`helpline.web.sockets`): while a socket is idle its handler waits for the
client's next message and nothing else runs for it; the hub's frames are written as they arrive, and by a
task only while the transport makes them wait.
"""

from __future__ import annotations

import msgspec
from starlette.requests import HTTPConnection
from starlette.types import Receive, Scope, Send

from helpline.agent_api import session
from helpline.core.errors import Unauthorized
from helpline.core.model import Agent, Role
from helpline.core.values import is_id
from helpline.realtime.hub import Overflowed, Subscriber, encode_event
from helpline.web.sockets import SocketWriter, close, immediate_text_sender, send_text
from helpline.web.surface import ApiSurface
from helpline.web.websocket import forget_handshake_headers

BACKLOG_LIMIT = 50_000
PONG = '{"event":"pong"}'


class _Live:
    """One open socket's writing side: the frames the hub queued, written in order after what the
    backlog already sent."""

    __slots__ = ("last_sent", "send", "send_now", "subscriber", "writer")

    def __init__(self, send: Send, subscriber: Subscriber, last_sent: int) -> None:
        self.send = send
        self.send_now = immediate_text_sender(send)
        self.subscriber = subscriber
        self.last_sent = last_sent
        self.writer = SocketWriter(self.pump)

    def ready(self) -> None:
        """The hub queued frames: written at once when nothing is being written, else by the pump.

        Runs inside the hub's dispatch of an event to every socket: nothing may escape from here.
        """
        send_now = self.send_now
        if send_now is None or self.writer.busy:
            self.writer.kick()
            return
        queue = self.subscriber.queue
        try:
            frames = queue.take_nowait()
        except Overflowed:  # the pump closes the socket
            self.writer.kick()
            return
        for index, (seq, frame) in enumerate(frames):
            if seq > self.last_sent:
                try:
                    sent = send_now(frame)
                except Exception:  # the pump's send meets it again, and ends or logs it
                    sent = False
                if not sent:  # paused or closing: the pump waits, or finds out why
                    queue.give_back(frames[index:])
                    self.writer.kick()
                    return
                self.last_sent = seq

    async def pump(self) -> None:
        queue = self.subscriber.queue
        while True:
            try:
                frames = queue.take_nowait()
            except Overflowed:
                await close(self.send, 4008, "too far behind; reconnect with ?after=<last seq>")
                return
            if not frames:
                return
            for seq, frame in frames:
                if seq > self.last_sent:
                    await send_text(self.send, frame)
                    self.last_sent = seq


class AgentSocket(ApiSurface):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        opened = await self._handshake(scope, receive, send)
        if opened is None:
            return
        agent, raw_after = opened
        forget_handshake_headers(scope)
        hub = self.services.hub
        subscriber = Subscriber(
            account_id=agent.account_id,
            agent_id=agent.id,
            department_ids=frozenset(agent.department_ids),
            is_admin=agent.role is Role.ADMIN,
        )
        hub.subscribe(subscriber)
        live: _Live | None = None
        try:
            last_sent = hub.last_seq
            if raw_after is not None:
                last_sent = await self._send_backlog(send, subscriber, int(raw_after))
            ready = {"event": "ready", "data": {"last_seq": last_sent, "agent_id": agent.id}}
            await send_text(send, msgspec.json.encode(ready).decode())
            live = _Live(send, subscriber, last_sent)
            subscriber.queue.on_ready = live.ready
            live.ready()  # what arrived during the backlog
            del agent, opened, ready
            while True:
                message = await receive()
                if message["type"] != "websocket.receive":
                    return
                text = message.get("text")
                if text and '"ping"' in text:
                    await send_text(send, PONG)
        except (OSError, RuntimeError):  # the client went away (ClientDisconnected), or the socket closed
            return
        finally:
            hub.unsubscribe(subscriber)
            subscriber.queue.close()
            if live is not None:
                await live.writer.stop()

    async def _handshake(self, scope: Scope, receive: Receive, send: Send) -> tuple[Agent, str | None] | None:
        """Authenticate and accept; None when the socket was refused or closed (a coroutine of its own, so
        that the parsed headers, query and cookies do not live as long as the socket)."""
        connection = HTTPConnection(scope)
        key = session.credential(connection.headers, connection.query_params, connection.cookies)
        raw_after = connection.query_params.get("after")
        await receive()  # websocket.connect
        if (
            key is not None
            and key.kind == "session"
            and not session.same_origin(connection.headers, self.services.settings)
        ):
            # A browser sends the cookie whichever page opens the socket: only our own pages may.
            await close(send, 4403, "a session websocket must come from this server's console")
            return None
        try:
            if key is None:
                raise Unauthorized(session.MISSING)
            agent = await self.store.read(lambda uow: session.agent_for(uow, key))
        except Unauthorized:
            await close(send, 4401, "invalid API key or session")
            return None
        await send({"type": "websocket.accept"})
        if raw_after is not None and not is_id(raw_after):
            # Accepted first, so the client reads the close code and why, not a bare refused handshake.
            await close(send, 4400, "after must be a sequence number")
            return None
        return agent, raw_after

    async def _send_backlog(self, send: Send, subscriber: Subscriber, after: int) -> int:
        """Replay what the agent may see after ``after``; say so when it is older than the log keeps."""
        first = await self.store.read(lambda uow: uow.events.first_seq())
        newest = self.services.hub.last_seq
        if (first and after < first - 1) or newest - after > BACKLOG_LIMIT:
            resync = {"event": "resync_required", "data": {"oldest_seq": first, "last_seq": newest}}
            await send_text(send, msgspec.json.encode(resync).decode())
            return newest
        last = after
        while True:
            page = await self.store.read(
                lambda uow, since=last: uow.events.after(since, 1000, subscriber.account_id)  # type: ignore[misc]
            )
            for event in page:
                if subscriber.wants(event):
                    await send_text(send, encode_event(event))
                last = event.seq
            if len(page) < 1000:
                return max(last, after)
