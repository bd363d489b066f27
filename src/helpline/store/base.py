"""What both backends share: the unit-of-work boundary and the post-commit hand-off of events."""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

from helpline.core.model import Event
from helpline.store.unit_of_work import UnitOfWork

T = TypeVar("T")
Work = Callable[[UnitOfWork], T]
EventListener = Callable[[list[Event]], None]


class SystemClock:
    def now(self) -> float:
        return time.time()


class Store(Protocol):
    """The request or job boundary: ``write`` commits once per unit of work, ``read`` never writes.

    What everything outside ``store/`` and ``bootstrap`` is typed on (``SqliteStore`` and ``PostgresStore``
    are two), as the work it runs is typed on :class:`helpline.store.unit_of_work.UnitOfWork`."""

    url: str

    async def write(self, work: Work[T]) -> T: ...
    async def read(self, work: Work[T]) -> T: ...
    def write_sync(self, work: Work[T]) -> T: ...
    def read_sync(self, work: Work[T]) -> T: ...
    def add_listener(self, listener: EventListener, loop: asyncio.AbstractEventLoop) -> None: ...
    async def close(self) -> None: ...
    def close_sync(self) -> None: ...


class Listeners:
    """Hands committed events to the event loop in commit order (call_soon_threadsafe keeps FIFO order)."""

    def __init__(self) -> None:
        self._listeners: list[tuple[EventListener, asyncio.AbstractEventLoop]] = []

    def add(self, listener: EventListener, loop: asyncio.AbstractEventLoop) -> None:
        self._listeners.append((listener, loop))

    def notify(self, events: list[Event]) -> None:
        if not events:
            return
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for listener, loop in self._listeners:
            if loop is current:
                loop.call_soon(listener, events)  # same loop: FIFO without waking it through a pipe
            elif not loop.is_closed():
                loop.call_soon_threadsafe(listener, events)


# A unit of work runs on the writer; a write_sync from inside it would queue behind itself for ever.
WRITE_INSIDE_A_UNIT = (
    "write_sync inside a unit of work would wait for itself: write through the unit's own uow"
)


def settle(future: Future[Any] | asyncio.Future[Any], ok: bool, value: Any) -> None:
    """Give a unit of work's caller its result or error."""
    if future.done():  # the caller went away (a cancelled request): its work is committed all the same
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def raise_if_error(value: Any) -> Any:
    if isinstance(value, BaseException):
        raise value
    return value


J = TypeVar("J")


def next_batch(jobs: queue.SimpleQueue[J | None], limit: int) -> list[J] | None:
    """A writer's next group: wait for one unit of work, then take what else is queued, up to ``limit``.
    None means stop; a stop met after the first unit is put back, so the group still runs first."""
    job = jobs.get()
    if job is None:
        return None
    batch = [job]
    while len(batch) < limit:
        try:
            more = jobs.get_nowait()
        except queue.Empty:
            break
        if more is None:
            jobs.put(None)
            break
        batch.append(more)
    return batch
