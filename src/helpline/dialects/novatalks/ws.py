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
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

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

log = logging.getLogger(__name__)

PATH = "/ws"
REPLAY_PAGE = 200
TYPING_REPEAT_SECONDS = 1.0  # a client repeating "typing" faster than this is not written again


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


class SdkSocket:
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

    async def serve(self, websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await self._serve(websocket)
        except Closed as closing:
            with contextlib.suppress(Exception):
                await websocket.close(code=closing.code, reason=closing.reason)
        except (WebSocketDisconnect, RuntimeError):
            return

    async def _subscribe_frame(self, websocket: WebSocket) -> dict[str, Any]:
        try:
            raw = await asyncio.wait_for(websocket.receive_text(), self.idle_timeout)
        except TimeoutError:
            raise Closed(4408, f"no subscribe frame within {self.idle_timeout:g} s") from None
        try:
            frame = json.loads(raw)
        except (ValueError, RecursionError):
            raise Closed(4400, "frames are JSON objects; subscribe first") from None
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

    async def _serve(self, websocket: WebSocket) -> None:
        data = await self._subscribe_frame(websocket)
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
            await websocket.send_text(dumps({"event": "confirm_subscription", "data": "confirmed"}))
            since = resume if resume is not None else start
            await self._replay(websocket, ids, since, until)
            await self._live(websocket, token, subscriber, max(since, until))
        finally:
            self.hub.unsubscribe(subscriber)

    async def _replay(self, websocket: WebSocket, ids: list[int], since: int, until: int) -> None:
        last = since
        while last < until:

            def page(uow: UnitOfWork, after: int = last) -> list[tuple[int, dict[str, Any] | None]]:
                found = uow.sdk.events.for_conversations_after(ids, after, until, REPLAY_PAGE)
                return [(event.seq, frame_for(uow, event) if may_render(event) else None) for event in found]

            frames = await self.store.read(page)
            for seq, frame in frames:
                if frame is not None:
                    await websocket.send_text(dumps(frame))
                last = seq
            if len(frames) < REPLAY_PAGE:
                return

    async def _live(
        self,
        websocket: WebSocket,
        token: ContactToken,
        subscriber: ContactSubscriber[DeferredFrame],
        last_sent: int,
    ) -> None:
        lock = asyncio.Lock()
        heard = [time.monotonic()]

        async def send(text: str) -> None:
            async with lock:
                await websocket.send_text(text)

        tasks = [
            asyncio.ensure_future(self._read(websocket, token, subscriber, send, heard)),
            asyncio.ensure_future(self._keep_alive(send, heard)),
            asyncio.ensure_future(self._forward(subscriber, send, last_sent)),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                failure = task.exception()
                if failure is not None:
                    raise failure
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _forward(
        self,
        subscriber: ContactSubscriber[DeferredFrame],
        send: Callable[[str], Awaitable[None]],
        last_sent: int,
    ) -> None:
        while True:
            try:
                frames = await subscriber.queue.take()
            except Overflowed:
                raise Closed(4008, "too far behind; reconnect and resume with data.updated_at") from None
            if not frames:  # closed: the socket is going
                return
            for seq, deferred in frames:
                if seq <= last_sent:
                    continue
                try:
                    text = await deferred.text()
                except Exception:
                    log.exception("rendering event %s for an SDK socket failed", seq)
                    raise Closed(1011, "could not render an event; reconnect and resume") from None
                if text is not None:
                    await send(text)
                last_sent = seq

    async def _keep_alive(self, send: Callable[[str], Awaitable[None]], heard: list[float]) -> None:
        ping = dumps({"event": "presence.update", "data": {}})
        next_ping = time.monotonic() + self.keepalive
        while True:
            deadline = heard[0] + self.idle_timeout
            await asyncio.sleep(max(0.0, min(next_ping, deadline) - time.monotonic()))
            now = time.monotonic()
            if now >= heard[0] + self.idle_timeout:
                raise Closed(4408, f"no update_presence for {self.idle_timeout:g} s")
            if now >= next_ping:
                await send(ping)
                next_ping = now + self.keepalive

    async def _read(
        self,
        websocket: WebSocket,
        token: ContactToken,
        subscriber: ContactSubscriber[DeferredFrame],
        send: Callable[[str], Awaitable[None]],
        heard: list[float],
    ) -> None:
        last_typing: dict[int, tuple[bool, float]] = {}
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            heard[0] = time.monotonic()
            raw = message.get("text")
            if raw is None:
                await send(_error("send text frames holding JSON objects"))
                continue
            try:
                frame = json.loads(raw)
            except (ValueError, RecursionError):
                await send(_error("frames are JSON objects"))
                continue
            if not isinstance(frame, dict):
                await send(_error("frames are JSON objects"))
                continue
            kind = frame.get("event")
            raw_data = frame.get("data")
            data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
            if kind == "update_presence":
                continue
            if kind == "subscribe":
                if await self._same(token, data.get("pubsub_token")):
                    await send(dumps({"event": "confirm_subscription", "data": "confirmed"}))
                else:
                    await send(_error("this socket is subscribed to another pubsub_token; open a new one"))
                continue
            if kind == "typing":
                problem = await self._typing(token, subscriber, data, last_typing)
                if problem is not None:
                    await send(_error(problem))
                continue
            await send(_error(f"unknown event {kind!r}: send update_presence, typing or subscribe"))

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
    return [WebSocketRoute(PATH, SdkSocket(services).serve)]
