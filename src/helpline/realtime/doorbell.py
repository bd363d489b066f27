"""The Redis doorbell: after a commit, tell the other processes that new events are in the log.

The events table stays the one source of truth. Redis pub/sub only shortens the time until another
process's hub sees them (from its poll interval to a publish's round trip). It is at-most-once: a message
is lost on a disconnect, on a resubscribe, or when Redis drops a slow subscriber. So every (re)subscribe
is followed at once by a read of the log, polling stays as the backstop, and with Redis down delivery
goes on through polling alone. Nothing here runs inside a database transaction: ``ring`` is a store
listener, called on the event loop after the commit.

A message carries the committed events themselves (a receiving hub dispatches them without a database
read) or, when they are large, only the highest sequence number (the hub then reads the log). A process
ignores its own messages: its hub had the events straight from its store.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import time
from typing import Any, Protocol

import msgspec

from helpline.core.model import Event

log = logging.getLogger(__name__)

MAX_EVENTS_BYTES = 32 * 1024  # past this a message carries only the sequence number
BACKOFF_FIRST = 0.1
BACKOFF_MAX = 2.0
HEALTH_CHECK_SECONDS = 2


class Ring(msgspec.Struct, omit_defaults=True):
    origin: str
    seq: int
    events: list[Event] | None = None


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Ring).decode


class Receiver(Protocol):
    """What the doorbell feeds: the hub (``publish`` events in any order; ``wake`` to read the log)."""

    last_seq: int

    def publish(self, events: list[Event]) -> None: ...
    def wake(self) -> None: ...


def node_name() -> str:
    """How this process names itself in logs and messages: ``HELPLINE_NODE_NAME``, else host:pid."""
    return os.environ.get("HELPLINE_NODE_NAME") or f"{socket.gethostname()}:{os.getpid()}"


def channel_for(database_url: str, chosen: str = "") -> str:
    """The pub/sub channel of one cluster: processes sharing a database share it, and two clusters on one
    Redis (two databases, or two schemas of one) never hear each other."""
    if chosen:
        return chosen
    return "helpline:events:" + hashlib.sha256(database_url.encode()).hexdigest()[:24]


class Doorbell:
    def __init__(self, url: str, channel: str, receiver: Receiver, origin: str | None = None) -> None:
        self.url = url
        self.channel = channel
        self.receiver = receiver
        # Unique per process start (a restarted node must not drop its predecessor's messages as its own).
        self.origin = origin or f"{node_name()}:{os.urandom(4).hex()}"
        self.subscribed = False
        self.published = 0
        self.received = 0
        self._outgoing: list[Event] = []
        self._ready = asyncio.Event()
        self._last_complaint = 0.0

    def ring(self, events: list[Event]) -> None:
        """A store listener: events this process just committed, handed over on the event loop."""
        self._outgoing.extend(events)
        self._ready.set()

    async def run(self, stop: asyncio.Event) -> None:
        from redis.asyncio import Redis

        publisher = Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=2)
        tasks = [
            asyncio.create_task(self._publish(publisher, stop), name="doorbell-publish"),
            asyncio.create_task(self._listen(stop), name="doorbell-listen"),
        ]
        try:
            await stop.wait()
        finally:
            self._ready.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await publisher.aclose()

    async def _publish(self, publisher: Any, stop: asyncio.Event) -> None:
        """One publish per batch of commits: whatever was rung while the last publish was on the wire."""
        while not stop.is_set():
            await self._ready.wait()
            self._ready.clear()
            events, self._outgoing = self._outgoing, []
            if not events:
                continue
            payload = _encode(Ring(self.origin, max(e.seq for e in events), events))
            if len(payload) > MAX_EVENTS_BYTES:
                payload = _encode(Ring(self.origin, max(e.seq for e in events)))
            try:
                await publisher.publish(self.channel, payload)
                self.published += 1
            except Exception as problem:  # Redis down: the other processes' polling carries these events
                self._complain("publishing to Redis failed (other processes will poll): %s", problem)

    async def _listen(self, stop: asyncio.Event) -> None:
        from redis.asyncio import Redis

        backoff = BACKOFF_FIRST
        while not stop.is_set():
            client = Redis.from_url(
                self.url, socket_connect_timeout=2, health_check_interval=HEALTH_CHECK_SECONDS
            )
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                while not stop.is_set():
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        # Subscribed, or subscribed again after redis-py reconnected on its own: whatever
                        # was published in between is lost to us, so read the log now.
                        if not self.subscribed:
                            log.info("subscribed to Redis channel %s", self.channel)
                        self.subscribed = True
                        backoff = BACKOFF_FIRST
                        self.receiver.wake()
                    elif message["type"] == "message":
                        self._heard(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as problem:
                if self.subscribed:
                    log.warning("lost the Redis subscription (polling the log meanwhile): %s", problem)
                else:
                    self._complain("cannot subscribe to Redis (polling the log meanwhile): %s", problem)
                self.subscribed = False
                await _sleep(stop, backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
            finally:
                self.subscribed = False
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()

    def _heard(self, data: bytes) -> None:
        try:
            ring = _decode(data)
        except msgspec.DecodeError:  # ValidationError is one
            log.warning("ignored a malformed message on %s", self.channel)
            return
        if ring.origin == self.origin:
            return
        self.received += 1
        if ring.events is not None:
            self.receiver.publish(ring.events)
        elif ring.seq > self.receiver.last_seq:
            self.receiver.wake()

    def _complain(self, text: str, problem: Exception) -> None:
        """At most one line every few seconds while Redis stays away."""
        now = time.monotonic()
        if now - self._last_complaint > 5:
            self._last_complaint = now
            log.warning(text, problem)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
