"""The routing policy's clock: end conversations that waited too long, re-ring offers nobody answered,
hand to humans what a bot did not accept in time.

Every process runs it, with no leader: each tick reads the deadlines that passed, then fires each in its
own short unit of work (``routing.fire``), which holds the conversation (skipping one another process
holds) and acts only if it is still as read. So a deadline fires once however many processes tick, and
one conversation that changed meanwhile never undoes the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging

from helpline.core import routing
from helpline.store.base import Store

log = logging.getLogger(__name__)


async def tick(store: Store) -> int:
    """Fire every deadline passed now; returns how many changed something."""
    changed = 0
    for timer in await store.read(routing.due_timers):
        try:
            changed += await store.write(functools.partial(routing.fire, timer=timer))
        except Exception:
            log.exception("routing timer %s of conversation %s failed", timer.kind, timer.conversation_id)
    return changed


async def run_timers(store: Store, stop: asyncio.Event, every: float) -> None:
    while not stop.is_set():
        try:
            await tick(store)
        except Exception:
            log.exception("routing timers failed; retrying")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
