"""The SDK's real-time protocol at ``/ws``.

The client connects and subscribes with its pubsub token::

    {"event": "subscribe", "data": {"pubsub_token": "...", "account_id": 1}}

and gets ``{"event": "confirm_subscription", "data": "confirmed"}`` (a wrong token closes the socket with
code 4401 and a reason saying so). Then the server sends the events of the contact's conversations as the
seed shows them — ``conversation.status_changed``, ``message.created``, ``message.updated``, ``typing``
(and ``message.deleted``, ``message.reaction_updated``) — and ``{"event": "presence.update", "data": {}}``
every keepalive interval; it expects ``{"event": "update_presence"}`` (any frame counts) and drops a
client silent past the idle timeout (code 4408). The client's ``{"event": "typing", "data":
{"conversation_id": N}}`` reaches the agent (``"typing": false`` says it stopped).

Resuming: ``data.after`` (or ``last_message_id``: the last message id the client saw) or
``data.updated_at`` (milliseconds: the newest ``created_at``/``updated_at`` it saw) in the subscribe frame
makes the server first send every event the client missed since then, in order, once. Without them the
stream starts at the subscription.

Frames are rendered once per event for every socket that gets it (a contact on several devices) and read
what they need from the store; the order of each socket's stream is the event log's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.types import Receive, Scope, Send

from helpline.core import channel, conversations
from helpline.core.channel import ContactToken
from helpline.core.errors import DomainError, Unauthorized
from helpline.core.model import Event
from helpline.core.values import MAX_ID, MIN_INT
from helpline.dialects.novatalks import DIALECT
from helpline.dialects.novatalks.frames import DeferredFrame, dumps, frame_for, may_render
from helpline.dialects.novatalks.requests import authorised
from helpline.realtime.hub import ContactSubscriber, Overflowed
from helpline.store.unit_of_work import UnitOfWork
from helpline.web.services import Services
from helpline.web.sockets import SocketWriter, close, send_text
from helpline.web.websocket import forget_handshake_headers

log = logging.getLogger(__name__)

PATH = "/ws"
REPLAY_PAGE = 200
TYPING_REPEAT_SECONDS = 1.0  # a client repeating "typing" faster than this is not written again
CONFIRMED = dumps({"event": "confirm_subscription", "data": "confirmed"})
PING = dumps({"event": "presence.update", "data": {}})


class Closed(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _number(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Closed(4400, f"{name} must be a number")
    try:
        number = value if isinstance(value, int) else int(float(value))
    except (ValueError, OverflowError):
        raise Closed(4400, f"{name} must be a number") from None
    if not MIN_INT <= number <= MAX_ID:
        raise Closed(4400, f"{name} must be a number from {MIN_INT} to {MAX_ID}")
    return number


class _Live:
    """One subscribed socket's writing side and keepalive: the hub's frames (rendered when written), the
    replies the reader queues, ``presence.update`` every keepalive interval and the close of a client
    silent past the idle timeout, all written in order by a task that exists only while there is
    something to write; the keepalive is a timer, not a sleeping task."""

    __slots__ = (
        "closing",
        "done",
        "heard",
        "idle_timeout",
        "keepalive",
        "last_sent",
        "next_ping",
        "outbox",
        "send",
        "subscriber",
        "timer",
        "writer",
    )

    def __init__(
        self,
        send: Send,
        subscriber: ContactSubscriber[DeferredFrame],
        last_sent: int,
        keepalive: float,
        idle_timeout: float,
    ) -> None:
        self.send = send
        self.subscriber = subscriber
        self.last_sent = last_sent
        self.keepalive = keepalive
        self.idle_timeout = idle_timeout
        self.heard = time.monotonic()
        self.next_ping = self.heard + keepalive
        self.outbox: list[str] = []
        self.closing: Closed | None = None
        self.done = False
        self.timer: asyncio.TimerHandle | None = None
        self.writer = SocketWriter(self.pump)

    def start(self) -> None:
        self.subscriber.queue.on_ready = self.writer.kick
        self._schedule()
        self.writer.kick()  # what arrived while the missed events were replayed

    async def stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        await self.writer.stop()

    def write(self, text: str) -> None:
        if not self.done:
            self.outbox.append(text)
            self.writer.kick()

    def close(self, closing: Closed) -> None:
        if not self.done and self.closing is None:
            self.closing = closing
            self.writer.kick()

    def _schedule(self) -> None:
        wake = min(self.next_ping, self.heard + self.idle_timeout)
        self.timer = asyncio.get_running_loop().call_later(max(0.0, wake - time.monotonic()), self._tick)

    def _tick(self) -> None:
        self.timer = None
        now = time.monotonic()
        if now >= self.heard + self.idle_timeout:
            self.close(Closed(4408, f"no update_presence for {self.idle_timeout:g} s"))
            return
        if now >= self.next_ping:
            self.write(PING)
            self.next_ping = now + self.keepalive
        self._schedule()

    async def pump(self) -> None:
        queue = self.subscriber.queue
        while not self.done:
            if self.closing is not None:
                self.done = True
                await close(self.send, self.closing.code, self.closing.reason)
                return
            if self.outbox:
                texts, self.outbox = self.outbox, []
                for text in texts:
                    await send_text(self.send, text)
                continue
            try:
                frames = queue.take_nowait()
            except Overflowed:
                self.closing = Closed(4008, "too far behind; reconnect and resume with data.updated_at")
                continue
            if not frames:
                return
            for seq, deferred in frames:
                if seq <= self.last_sent:
                    continue
                try:
                    rendered = await deferred.text()
                except Exception:
                    log.exception("rendering event %s for an SDK socket failed", seq)
                    self.closing = Closed(1011, "could not render an event; reconnect and resume")
                    break
                if rendered is not None:
                    await send_text(self.send, rendered)
                self.last_sent = seq


class SdkSocket:
    """The ``/ws`` endpoint, a plain ASGI app (see :mod:`helpline.web.sockets`): while a socket is idle its
    handler waits for the client's next frame and nothing else runs for it."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.store = services.store
        self.hub = services.hub
        self.keepalive = services.settings.sdk_keepalive_seconds
        self.idle_timeout = services.settings.sdk_idle_timeout_seconds

    async def _render(self, event: Event) -> str | None:
        frame = await self.store.read(lambda uow: frame_for(uow, event))
        return dumps(frame) if frame is not None else None

    def encoder(self, event: Event) -> DeferredFrame | None:
        return DeferredFrame(event, self._render) if may_render(event) else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        forget_handshake_headers(scope)
        try:
            await self._serve(receive, send)
        except Closed as closing:
            with contextlib.suppress(Exception):
                await close(send, closing.code, closing.reason)
        except (OSError, RuntimeError):  # the client went away (ClientDisconnected), or the socket closed
            return

    async def _subscribe_frame(self, receive: Receive) -> dict[str, Any] | None:
        """The client's subscribe frame; None when the client went away first."""
        try:
            message = await asyncio.wait_for(receive(), self.idle_timeout)
        except TimeoutError:
            raise Closed(4408, f"no subscribe frame within {self.idle_timeout:g} s") from None
        if message["type"] != "websocket.receive":
            return None
        raw = message.get("text")
        try:
            frame = json.loads(raw) if raw is not None else None
        except (ValueError, RecursionError):
            frame = None
        if (
            not isinstance(frame, dict)
            or frame.get("event") != "subscribe"
            or not isinstance(frame.get("data"), dict)
        ):
            raise Closed(4400, 'subscribe first: {"event":"subscribe","data":{"pubsub_token":...}}')
        data: dict[str, Any] = frame["data"]
        return data

    async def _authorise(self, data: dict[str, Any]) -> ContactToken:
        secret = data.get("pubsub_token")
        if not isinstance(secret, str) or not secret:
            raise Closed(4401, "data.pubsub_token is required")
        try:
            token = await self.store.read(lambda uow: authorised(uow, secret))
        except Unauthorized as refused:
            raise Closed(4401, f"subscription refused: {refused.message}") from None
        account_id = _number(data.get("account_id"), "account_id")
        if account_id is not None and account_id != token.account_id:
            raise Closed(4401, f"subscription refused: the pubsub_token is not of account {account_id}")
        return token

    async def _resume_point(self, token: ContactToken, data: dict[str, Any], ids: list[int]) -> int | None:
        """The last event the client says it saw, from ``after`` (message id) or ``updated_at`` (ms)."""
        after = _number(data.get("after", data.get("last_message_id")), "after")
        updated_at = _number(data.get("updated_at"), "updated_at")
        if after is not None:

            def by_message(uow: UnitOfWork) -> int:
                message = channel.contact_message(uow, token, after)
                found = uow.sdk.events.seq_of_message(message)
                return found if found is not None else uow.sdk.events.last_seq_before(ids, message.created_at)

            try:
                return await self.store.read(by_message)
            except DomainError as refused:
                raise Closed(4404, f"cannot resume: {refused.message}") from None
        if updated_at is not None:
            return await self.store.read(lambda uow: uow.sdk.events.last_seq_before(ids, updated_at / 1000.0))
        return None

    async def _serve(self, receive: Receive, send: Send) -> None:
        subscribed = await self._subscribe(send, receive)
        if subscribed is None:
            return
        token, live = subscribed
        try:
            live.start()
            await self._read(receive, token, live)
        finally:
            self.hub.unsubscribe(live.subscriber)
            live.subscriber.queue.close()
            await live.stop()

    async def _subscribe(self, send: Send, receive: Receive) -> tuple[ContactToken, _Live] | None:
        """Authorise the subscribe frame, confirm it and replay what the client missed (a coroutine of its
        own, so that what the subscription needed does not live as long as the socket)."""
        data = await self._subscribe_frame(receive)
        if data is None:
            return None
        token = await self._authorise(data)
        start = self.hub.last_seq
        ids = await self.store.read(lambda uow: uow.sdk.conversations.ids_for_contact(token.contact_id))
        subscriber: ContactSubscriber[DeferredFrame] = ContactSubscriber(
            account_id=token.account_id,
            contact_id=token.contact_id,
            conversation_ids=set(ids),
            protocol=DIALECT,
            encoder=self.encoder,
        )
        self.hub.subscribe(subscriber)
        until = self.hub.last_seq  # later events reach the queue; earlier ones come from the log
        try:
            ids = await self.store.read(lambda uow: uow.sdk.conversations.ids_for_contact(token.contact_id))
            subscriber.conversation_ids.update(ids)
            self.hub.refile(subscriber)
            resume = await self._resume_point(token, data, ids)
            await send_text(send, CONFIRMED)
            since = resume if resume is not None else start
            await self._replay(send, ids, since, until)
        except BaseException:
            self.hub.unsubscribe(subscriber)
            raise
        live = _Live(send, subscriber, max(since, until), self.keepalive, self.idle_timeout)
        return token, live

    async def _replay(self, send: Send, ids: list[int], since: int, until: int) -> None:
        last = since
        while last < until:

            def page(uow: UnitOfWork, after: int = last) -> list[tuple[int, dict[str, Any] | None]]:
                found = uow.sdk.events.for_conversations_after(ids, after, until, REPLAY_PAGE)
                return [(event.seq, frame_for(uow, event) if may_render(event) else None) for event in found]

            frames = await self.store.read(page)
            for seq, frame in frames:
                if frame is not None:
                    await send_text(send, dumps(frame))
                last = seq
            if len(frames) < REPLAY_PAGE:
                return

    async def _read(self, receive: Receive, token: ContactToken, live: _Live) -> None:
        last_typing: dict[int, tuple[bool, float]] = {}
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                return
            live.heard = time.monotonic()
            raw = message.get("text")
            if raw is None:
                live.write(_error("send text frames holding JSON objects"))
                continue
            try:
                frame = json.loads(raw)
            except (ValueError, RecursionError):
                live.write(_error("frames are JSON objects"))
                continue
            if not isinstance(frame, dict):
                live.write(_error("frames are JSON objects"))
                continue
            kind = frame.get("event")
            raw_data = frame.get("data")
            data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
            if kind == "update_presence":
                continue
            if kind == "subscribe":
                if await self._same(token, data.get("pubsub_token")):
                    live.write(CONFIRMED)
                else:
                    live.write(_error("this socket is subscribed to another pubsub_token; open a new one"))
                continue
            if kind == "typing":
                problem = await self._typing(token, live.subscriber, data, last_typing)
                if problem is not None:
                    live.write(_error(problem))
                continue
            live.write(_error(f"unknown event {kind!r}: send update_presence, typing or subscribe"))

    async def _same(self, token: ContactToken, secret: Any) -> bool:
        if not isinstance(secret, str) or not secret:
            return False
        try:
            other = await self.store.read(lambda uow: channel.token_by_secret(uow, secret))
        except Unauthorized:
            return False
        return other.id == token.id

    async def _typing(
        self,
        token: ContactToken,
        subscriber: ContactSubscriber[DeferredFrame],
        data: dict[str, Any],
        last_typing: dict[int, tuple[bool, float]],
    ) -> str | None:
        conversation_id = data.get("conversation_id")
        if isinstance(conversation_id, bool) or not isinstance(conversation_id, int):
            return "typing needs data.conversation_id (a number)"
        if conversation_id not in subscriber.conversation_ids:
            return f"conversation {conversation_id} is not yours"
        typing = data.get("typing", True)
        if not isinstance(typing, bool):
            return "data.typing must be true or false"
        now = time.monotonic()
        previous = last_typing.get(conversation_id)
        if previous is not None and previous[0] == typing and now - previous[1] < TYPING_REPEAT_SECONDS:
            return None
        last_typing[conversation_id] = (typing, now)

        def work(uow: UnitOfWork) -> None:
            conversation = uow.conversations.get(token.account_id, conversation_id)
            if conversation is None or conversation.contact_id != token.contact_id:
                raise Unauthorized(f"conversation {conversation_id} is not yours")
            conversations.contact_typing(uow, conversation, typing)

        try:
            await self.store.write(work)
        except DomainError as refused:
            return refused.message
        return None


def _error(message: str) -> str:
    return dumps({"event": "error", "data": {"message": message}})


def routes(services: Services) -> list[BaseRoute]:
    return [WebSocketRoute(PATH, SdkSocket(services))]
