"""Deadlines on the database's clock: a PostgreSQL store's units of work take ``now`` from it (through a
measured offset, no round trip each), SQLite's from this host's (its database is a file here)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from store_backends import opened_store

from helpline.store.base import SystemClock
from helpline.store.db_clock import DatabaseClock, database_time


def test_a_store_takes_now_from_its_database_clock(any_database_url: str) -> None:
    with opened_store(any_database_url, migrate=False) as store:
        clock: Any = store.clock  # type: ignore[attr-defined]
        if any_database_url.startswith("sqlite:"):
            assert isinstance(clock, SystemClock)
        else:
            assert isinstance(clock, DatabaseClock)
            assert abs(clock.offset) < 1.0  # the same host: the clocks agree
        database_now = store.read_sync(lambda uow: database_time(uow.db))
        unit_now = store.read_sync(lambda uow: uow.now)
        assert abs(unit_now - database_now) < 0.5


class SkewedDatabase:
    """A store whose database clock runs 100 s ahead of this host's."""

    def __init__(self) -> None:
        self.reads = 0

    def read_sync(self, work: Any) -> float:
        self.reads += 1
        return time.time() + 100.0


def test_the_offset_is_measured_and_measured_again() -> None:
    clock = DatabaseClock()
    skewed = SkewedDatabase()
    assert 99.9 < clock.measure(skewed) < 100.1  # type: ignore[arg-type]
    assert 99.9 < clock.now() - time.time() < 100.1

    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(clock.run(skewed, stop, every=0.05))  # type: ignore[arg-type]
        await asyncio.sleep(0.3)
        stop.set()
        await task

    asyncio.run(go())
    assert skewed.reads >= 3
