"""The websocket hub: committed events in, one encoded frame per event out to every socket that may see it.

Events reach the hub two ways: straight from the store after a commit in this process (fast path), and by
polling the event log (events committed by other processes sharing PostgreSQL, or a gap the fast path left
when commits finished out of order). The hub only ever dispatches in sequence order, so every socket sees
a gap-free, ordered stream of what it may see, and a client can resume from the last ``seq`` it got.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import msgspec

from helpline.core import events as ev
from helpline.core.model import PRIVATE_EVENT_PREFIXES, ActorType, Event
from helpline.core.serialize import agent_message

log = logging.getLogger(__name__)

QUEUE_LIMIT = 1000
Fetch = Callable[[int, int], Awaitable[list[Event]]]
F = TypeVar("F")


Key = tuple[str, int, int | None]  # (what, account, which); None matches nothing


def event_keys(event: Event) -> tuple[Key, ...]:
    """The keys under which the sockets that may want ``event`` are filed (see ``Subscription.keys``).
    Keys with a None in them match no socket: cheaper to look up than to leave out."""
    account = event.account_id
    if event.agent_id is not None and event.type.startswith(PRIVATE_EVENT_PREFIXES):
        # What is said in an assigned conversation is its agents' alone (Event.visible_to): the rest of
        # the department's sockets, idle for this event however many, are not even looked at.
        keys: tuple[Key, ...] = (
            ("admin", account, 0),
            ("agent", account, event.agent_id),
            ("agent", account, event.prev_agent_id),
            ("conversation", account, event.conversation_id),
        )
    else:
        keys = (
            ("admin", account, 0),
            ("agent", account, event.agent_id),
            ("agent", account, event.prev_agent_id),
            ("department", account, event.department_id),
            ("department", account, event.prev_department_id),
            ("conversation", account, event.conversation_id),
        )
    if event.type == ev.CONVERSATION_STARTED and event.actor.type is ActorType.CONTACT and event.actor.id:
        keys += (("contact", account, event.actor.id),)
    return keys


def encode_event(event: Event) -> str:
    data = dict(event.data)
    if isinstance(data.get("message"), dict):  # the agent API's shape, as its REST answers have it
        data["message"] = agent_message(data["message"])
    data.setdefault("conversation_id", event.conversation_id)
    data.setdefault("department_id", event.department_id)
    data["actor"] = event.actor.as_json()
    data["created_at"] = event.created_at
    return msgspec.json.encode({"seq": event.seq, "event": event.type, "data": data}).decode()


class Overflowed(Exception):
    """The socket fell ``QUEUE_LIMIT`` frames behind: it is to be closed, and its client resumes from the
    last sequence number it got."""


class FrameQueue(Generic[F]):
    """The frames waiting for one socket, oldest first.

    A list and a callback: an ``asyncio.Queue`` keeps three deques (about 2.3 KB) for every socket even
    while it is idle, and idle sockets are most sockets. The socket is told by ``on_ready`` (called on
    every put and on close) and takes everything queued at once with :meth:`take_nowait`, so it needs no
    task waiting while it is idle, and a burst costs it one write.
    """

    __slots__ = ("_closed", "_frames", "_limit", "on_ready", "overflowed")

    def __init__(self, limit: int | None = None) -> None:
        self._frames: list[tuple[int, F]] = []
        self._limit = QUEUE_LIMIT if limit is None else limit
        self._closed = False
        self.overflowed = False
        self.on_ready: Callable[[], None] | None = None

    def __len__(self) -> int:
        return len(self._frames)

    def put(self, seq: int, frame: F) -> None:
        """Queue a frame; a socket this far behind would only fall further, so past the limit the queue
        is dropped and the writer told to close the socket instead."""
        if self.overflowed or self._closed:
            return
        if len(self._frames) >= self._limit:
            self.overflowed = True
            self._frames.clear()
        else:
            self._frames.append((seq, frame))
        self._wake()

    def close(self) -> None:
        """The socket is gone (its client closed it): what was queued is dropped, and later frames too."""
        self._closed = True
        self._frames.clear()
        self._wake()

    def _wake(self) -> None:
        if self.on_ready is not None:
            self.on_ready()

    def give_back(self, frames: list[tuple[int, F]]) -> None:
        """Put frames taken but not written back in front of the queue (no wake-up: the taker goes on)."""
        if not self._closed and not self.overflowed:
            self._frames[:0] = frames

    def take_nowait(self) -> list[tuple[int, F]]:
        """Every frame queued so far (an empty list when there is none or the queue is closed);
        :class:`Overflowed` once the socket has fallen too far behind."""
        if not self._frames:
            if self.overflowed:
                raise Overflowed
            return []
        frames, self._frames = self._frames, []
        return frames


class Subscription(ABC, Generic[F]):
    """One websocket's view of the stream: which events it may see (``wants``), how they are encoded for
    its protocol (``encode``: None leaves the event out), and the frames waiting to be written to it.

    The hub encodes an event once per ``protocol`` and hands that same frame to every socket of the
    protocol that wants it; so ``encode`` must give the same frame to every subscriber of a protocol.
    """

    __slots__ = ()  # its subclasses are slotted dataclasses: one per open socket

    protocol: str
    queue: FrameQueue[F]

    @abstractmethod
    def wants(self, event: Event) -> bool: ...

    @abstractmethod
    def encode(self, event: Event) -> F | None: ...

    @abstractmethod
    def keys(self) -> set[Key]:
        """Where the hub files this socket: every event it may want has one of these among
        :func:`event_keys` (``wants`` still decides; the keys only spare the hub asking every socket)."""


@dataclass(eq=False, slots=True)
class Subscriber(Subscription[str]):
    """An agent's socket: the events of their departments and of their own work."""

    account_id: int
    agent_id: int
    department_ids: frozenset[int]
    is_admin: bool
    queue: FrameQueue[str] = field(default_factory=FrameQueue)
    protocol: str = "agent"

    def wants(self, event: Event) -> bool:
        return event.account_id == self.account_id and event.visible_to(
            self.agent_id, self.department_ids, self.is_admin
        )

    def encode(self, event: Event) -> str | None:
        return encode_event(event)

    def keys(self) -> set[Key]:
        if self.is_admin:
            return {("admin", self.account_id, 0)}
        return {("agent", self.account_id, self.agent_id)} | {
            ("department", self.account_id, department) for department in self.department_ids
        }


@dataclass(eq=False, slots=True)
class ContactSubscriber(Subscription[F]):
    """A contact's socket: the events of the contact's conversations, including those it starts while
    connected (their ``conversation.started`` names the contact as actor). ``encoder`` is the protocol's
    (a dialect's) and may leave events out."""

    account_id: int
    contact_id: int
    conversation_ids: set[int]
    protocol: str
    encoder: Callable[[Event], F | None]
    queue: FrameQueue[F] = field(default_factory=FrameQueue)

    def wants(self, event: Event) -> bool:
        if event.account_id != self.account_id or event.conversation_id is None:
            return False
        if event.conversation_id in self.conversation_ids:
            return True
        if (
            event.type == ev.CONVERSATION_STARTED
            and event.actor.type is ActorType.CONTACT
            and event.actor.id == self.contact_id
        ):
            self.conversation_ids.add(event.conversation_id)
            return True
        return False

    def encode(self, event: Event) -> F | None:
        return self.encoder(event)

    def keys(self) -> set[Key]:
        return {("contact", self.account_id, self.contact_id)} | {
            ("conversation", self.account_id, conversation) for conversation in self.conversation_ids
        }


class Hub:
    def __init__(self, fetch: Fetch, start_seq: int, poll_seconds: float = 0.5) -> None:
        self._fetch = fetch
        self.last_seq = start_seq
        self._pending: dict[int, Event] = {}
        # Sockets filed by their keys: an event is offered only to the sockets under its keys, so that
        # thousands of idle sockets (other accounts', other departments', other contacts') cost it nothing.
        self._filed: dict[Key, dict[Subscription[Any], None]] = {}
        self._keys_of: dict[Subscription[Any], set[Key]] = {}
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._listeners: list[Callable[[list[Event]], None]] = []

    def wake(self) -> None:
        """Read the log now rather than at the next poll (another process committed, or the doorbell
        (re)subscribed and may have missed some)."""
        self._wake.set()

    def add_listener(self, listener: Callable[[list[Event]], None]) -> None:
        """Called with each in-order batch after dispatch (the delivery worker uses it as a wake-up)."""
        self._listeners.append(listener)

    def subscribe(self, subscriber: Subscription[Any]) -> None:
        self.refile(subscriber)

    def refile(self, subscriber: Subscription[Any]) -> None:
        """File a socket under its keys again (call after changing what it may see)."""
        self._unfile(subscriber)
        keys = subscriber.keys()
        self._keys_of[subscriber] = keys
        for key in keys:
            self._filed.setdefault(key, {})[subscriber] = None

    def unsubscribe(self, subscriber: Subscription[Any]) -> None:
        self._unfile(subscriber)
        self._keys_of.pop(subscriber, None)

    def _unfile(self, subscriber: Subscription[Any]) -> None:
        for key in self._keys_of.get(subscriber, ()):
            filed = self._filed.get(key)
            if filed is not None:
                filed.pop(subscriber, None)
                if not filed:
                    del self._filed[key]

    @property
    def subscriber_count(self) -> int:
        return len(self._keys_of)

    def counts_by_protocol(self) -> dict[str, int]:
        """Sockets open, by protocol (the agent API's, each dialect's): for ``/metrics``."""
        counts: dict[str, int] = {}
        for subscriber in self._keys_of:
            counts[subscriber.protocol] = counts.get(subscriber.protocol, 0) + 1
        return counts

    def publish(self, events: list[Event]) -> None:
        """Take committed events (from any thread's commit, via the loop); dispatch what is next in order."""
        for event in events:
            if event.seq > self.last_seq:
                self._pending[event.seq] = event
        ready = []
        while self.last_seq + 1 in self._pending:
            self.last_seq += 1
            ready.append(self._pending.pop(self.last_seq))
        if ready:
            self._dispatch(ready)
        if self._pending:
            self._wake.set()  # a gap: let the poller fetch what is missing from the log

    def _dispatch(self, events: list[Event]) -> None:
        for event in events:
            frames: dict[str, Any] = {}  # one encoding per protocol, shared by its sockets
            candidates: dict[Subscription[Any], None] = {}
            for key in event_keys(event):
                filed = self._filed.get(key)
                if filed:
                    candidates.update(filed)
            for subscriber in candidates:
                queue = subscriber.queue
                if queue.overflowed or not subscriber.wants(event):
                    continue
                if event.type == ev.CONVERSATION_STARTED:
                    self.refile(subscriber)  # a socket may follow the conversations it starts (a contact's)
                protocol = subscriber.protocol
                if protocol not in frames:
                    frames[protocol] = subscriber.encode(event)
                frame = frames[protocol]
                if frame is not None:
                    queue.put(event.seq, frame)
        for listener in self._listeners:
            listener(events)

    async def poll_once(self) -> None:
        while True:
            events = await self._fetch(self.last_seq, 500)
            if not events:
                return
            self.publish(events)
            if len(events) < 500:
                return

    async def run(self, stop: asyncio.Event) -> None:
        """Poll the event log; this is also what carries events committed by other processes."""
        while not stop.is_set():
            try:
                await self.poll_once()
            except Exception:
                log.exception("polling the event log failed; retrying")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
