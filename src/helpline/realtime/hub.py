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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import msgspec

from helpline.core.model import Event

log = logging.getLogger(__name__)

QUEUE_LIMIT = 1000
Fetch = Callable[[int, int], Awaitable[list[Event]]]


def encode_event(event: Event) -> str:
    data = dict(event.data)
    data.setdefault("conversation_id", event.conversation_id)
    data.setdefault("department_id", event.department_id)
    data["actor"] = event.actor.as_json()
    data["created_at"] = event.created_at
    return msgspec.json.encode({"seq": event.seq, "event": event.type, "data": data}).decode()


@dataclass(eq=False)
class Subscriber:
    """One websocket's view: which events it may see, and the frames waiting to be written to it."""

    account_id: int
    agent_id: int
    department_ids: frozenset[int]
    is_admin: bool
    queue: asyncio.Queue[tuple[int, str] | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_LIMIT)
    )
    overflowed: bool = False

    def wants(self, event: Event) -> bool:
        return event.account_id == self.account_id and event.visible_to(
            self.agent_id, self.department_ids, self.is_admin
        )


class Hub:
    def __init__(self, fetch: Fetch, start_seq: int, poll_seconds: float = 0.5) -> None:
        self._fetch = fetch
        self.last_seq = start_seq
        self._pending: dict[int, Event] = {}
        self._subscribers: set[Subscriber] = set()
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._listeners: list[Callable[[list[Event]], None]] = []

    def add_listener(self, listener: Callable[[list[Event]], None]) -> None:
        """Called with each in-order batch after dispatch (the delivery worker uses it as a wake-up)."""
        self._listeners.append(listener)

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.add(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

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
            frame: str | None = None
            for subscriber in self._subscribers:
                if subscriber.overflowed or not subscriber.wants(event):
                    continue
                if frame is None:
                    frame = encode_event(event)
                try:
                    subscriber.queue.put_nowait((event.seq, frame))
                except asyncio.QueueFull:
                    # A socket this far behind would only fall further: close it, the client resumes.
                    subscriber.overflowed = True
                    with contextlib.suppress(asyncio.QueueFull):
                        subscriber.queue.get_nowait()
                    subscriber.queue.put_nowait(None)
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
