"""Bounded connections: slow clients cannot hold the server's file descriptors.

uvicorn times out an idle keep-alive connection, but not a request whose head (request line and
headers) or body trickles in: 1,100 connections sending a header byte now and then used every file
descriptor of a process with the usual 1024 limit, and the listening socket could accept nothing
(``/healthz`` included) until they gave up. So, on top of uvicorn's httptools protocol:

- a request head must be complete within ``head_timeout`` seconds of its first byte (or of the
  connection, for the first request), and a body may not stall for more than ``body_timeout`` seconds
  between chunks (not counted while the server itself has paused reading);
- at most ``max_connections`` connections (HTTP and websockets) are open; the limit sits below the
  process's file limit, with room for the database, files and outbound calls. A connection over the
  limit first makes room by closing the oldest connection that is idle or still sending its request
  head (it has cost nothing yet), and is closed itself only when every connection is busy with a
  request. A quick request such as ``/healthz`` so gets in during a flood of slow ones.

Deadlines are checked by one sweep per second over the open connections rather than a timer per
request: the message hot path only stores a number.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)

HEAD, BODY, APP, IDLE = 0, 1, 2, 3  # what a connection is doing: the deadline applies to HEAD and BODY
SWEEP_SECONDS = 1.0
RESERVED_FILES = 128  # kept out of the connection limit: database, log, uploads, outbound HTTP


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    max_connections: int
    head_timeout: float = 10.0
    body_timeout: float = 30.0


def raise_file_limit() -> int:
    """Raise the soft limit on open files to the hard limit (as far as the kernel allows); the soft
    limit in force afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if wanted > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError) as problem:
            log.warning("could not raise the open-file limit from %d to %d: %s", soft, wanted, problem)
    return soft


def connection_limit(file_limit: int) -> int:
    """Connections allowed under ``file_limit`` open files: what the process needs besides, kept free."""
    reserved = max(RESERVED_FILES, file_limit // 10)
    return max(16, file_limit - reserved)


def protocol_for(limits: ConnectionLimits) -> type[GuardedHttpProtocol]:
    """uvicorn's ``http`` option: the guarded protocol bound to ``limits``."""
    return type("GuardedHttpProtocol", (GuardedHttpProtocol,), {"limits": limits})


class GuardedHttpProtocol(HttpToolsProtocol):
    limits: ClassVar[ConnectionLimits] = ConnectionLimits(max_connections=1 << 30)
    _sweepers: ClassVar[dict[int, asyncio.Task[None]]] = {}

    _phase: int
    _deadline: float  # 0: none
    _since: float

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        now = self.loop.time()
        self._phase, self._since, self._deadline = HEAD, now, now + self.limits.head_timeout
        self._ensure_sweeper()
        if len(self.connections) > self.limits.max_connections:
            self._make_room()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._phase != HEAD:  # a later request on a kept-alive connection
            now = self.loop.time()
            self._phase, self._since, self._deadline = HEAD, now, now + self.limits.head_timeout

    def on_headers_complete(self) -> None:
        self._phase, self._deadline = BODY, self.loop.time() + self.limits.body_timeout
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._deadline = self.loop.time() + self.limits.body_timeout
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._phase, self._deadline = APP, 0.0
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._phase == APP:  # not already reading a pipelined request
            self._phase, self._since, self._deadline = IDLE, self.loop.time(), 0.0

    # -- enforcement -----------------------------------------------------------------------------

    def _overdue(self, now: float) -> bool:
        if not self._deadline or now < self._deadline:
            return False
        return not (self._phase == BODY and self.flow.read_paused)  # the server is the slow one

    def _drop(self, why: str) -> None:
        if not self.transport.is_closing():
            log.debug("%s:%s: closing a connection: %s", *(self.client or ("?", 0)), why)
            self.transport.abort()

    def _make_room(self) -> None:
        """Close the oldest connection that has not got a whole request in (idle first), else this one."""
        victim: GuardedHttpProtocol = self
        best = (2, 0.0)
        for connection in self.connections:
            if not isinstance(connection, GuardedHttpProtocol) or connection.transport.is_closing():
                continue
            if connection._phase == IDLE or connection._phase == HEAD:
                rank = (0 if connection._phase == IDLE else 1, connection._since)
                if rank < best:
                    victim, best = connection, rank
        victim._drop(f"over the limit of {self.limits.max_connections} connections")

    def _ensure_sweeper(self) -> None:
        key = id(self.loop)
        task = self._sweepers.get(key)
        if task is None or task.done():
            self._sweepers[key] = self.loop.create_task(
                _sweep(self.connections), name="helpline-connection-sweep"
            )


async def _sweep(connections: set[Any]) -> None:
    """Close the connections past their deadline, once a second, while any connection is open."""
    loop = asyncio.get_running_loop()
    while connections:
        await asyncio.sleep(SWEEP_SECONDS)
        now = loop.time()
        for connection in list(connections):
            if isinstance(connection, GuardedHttpProtocol) and connection._overdue(now):
                slow = "request head" if connection._phase == HEAD else "request body"
                connection._drop(f"the {slow} took too long")
