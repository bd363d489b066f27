"""The database server's clock, for every deadline several processes share (leases, backoffs, ringing,
queue and bot timeouts): processes on hosts whose clocks disagree still agree on what is due.

Read without a round trip: the offset between this host's clock and the database's is measured when the
store opens and again every ``every`` seconds (``run``), and ``now()`` is this host's time plus it. The
hot path (every unit of work's ``now``) pays nothing; the error is half a round trip plus the drift
between two measurements.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from helpline.store.base import Store
from helpline.store.statements import Db, is_sqlite, one

log = logging.getLogger(__name__)


def database_time(db: Db) -> float:
    """The database server's time now (SQLite is a file on this host: its clock is this host's)."""
    if is_sqlite(db):
        return time.time()
    row = one(db, "SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8 AS now")
    assert row is not None
    return float(row["now"])


class DatabaseClock:
    def __init__(self) -> None:
        self.offset = 0.0  # database time minus this host's

    def now(self) -> float:
        return time.time() + self.offset

    def measure(self, store: Store) -> float:
        """Measure the offset against ``store``'s database; returns it."""
        before = time.time()
        found = store.read_sync(lambda uow: database_time(uow.db))
        after = time.time()
        self.offset = found - (before + after) / 2
        return self.offset

    async def run(self, store: Store, stop: asyncio.Event, every: float = 30.0) -> None:
        """Measure again every ``every`` seconds until ``stop`` is set (clocks drift)."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
            if stop.is_set():
                return
            try:
                await asyncio.to_thread(self.measure, store)
            except Exception:
                log.exception("measuring the database's clock failed; keeping the last offset")
