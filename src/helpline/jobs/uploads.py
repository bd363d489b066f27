"""Removing what uploads cut short by a crash left in the file store.

A refused or broken upload cleans up after itself; a process killed mid-upload cannot, and its partial
file (a ``.part`` file, or chunks in the database) would stay for ever, unreachable. Every process sweeps
now and then; removing is idempotent, so several sweeping at once is harmless. An upload counts as cut
short once nothing has been added to it for ``QUIET_FOR_SECONDS``: far longer than any client that is
still sending leaves between two pieces of a file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from helpline.core.files import FileStore

log = logging.getLogger(__name__)

SWEEP_EVERY_SECONDS = 600.0
QUIET_FOR_SECONDS = 3600.0


async def sweep_once(files: FileStore, now: float, quiet_for: float = QUIET_FOR_SECONDS) -> int:
    removed = await files.sweep(now - quiet_for)
    if removed:
        log.info("removed %d upload(s) cut short, quiet for over %.0f s", removed, quiet_for)
    return removed


async def run_upload_sweeps(
    files: FileStore,
    stop: asyncio.Event,
    clock: Callable[[], float] = time.time,
    every: float = SWEEP_EVERY_SECONDS,
    quiet_for: float = QUIET_FOR_SECONDS,
) -> None:
    """Sweep at start-up (what the last crash left), then every ``every`` seconds until ``stop``."""
    while not stop.is_set():
        try:
            await sweep_once(files, clock(), quiet_for)
        except Exception:
            log.exception("sweeping uploads cut short failed; trying again later")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
