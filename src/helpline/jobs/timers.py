"""The routing policy's clock: end conversations that waited too long, re-ring offers nobody answered."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from helpline.core import routing
from helpline.store.base import Store

log = logging.getLogger(__name__)


async def run_timers(store: Store, stop: asyncio.Event, every: float) -> None:
    while not stop.is_set():
        try:
            await store.write(routing.expire_waiting)
        except Exception:
            log.exception("routing timers failed; retrying")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
