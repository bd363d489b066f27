"""PostgreSQL backend: the shared store when several ``helpline serve`` processes run side by side.

Units of work run in worker threads on pooled connections, one transaction each. A unit of work that
loses a deadlock or a serialization race is run again from the start (it holds no state of its own
outside the transaction), up to a few times.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from helpline.core.ports import Clock
from helpline.store.base import Listeners, SystemClock, T, Work
from helpline.store.migrate import upgrade
from helpline.store.sql import SqlUnitOfWork

if TYPE_CHECKING:  # psycopg is imported when a PostgreSQL store is opened, not by every CLI command
    import psycopg
    from psycopg_pool import ConnectionPool

_PLACEHOLDER = re.compile(r"\?")
_translated: dict[str, str] = {}
RETRIES = 5


def to_pyformat(sql: str) -> str:
    """The repositories write ``?``; psycopg wants ``%s``. Cached: the set of statements is small."""
    found = _translated.get(sql)
    if found is None:
        found = _translated[sql] = _PLACEHOLDER.sub("%s", sql)
    return found


class _PgDb:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(to_pyformat(sql), params)


class PostgresStore:
    def __init__(self, url: str, clock: Clock | None = None, pool_size: int = 10) -> None:
        self.url = url
        self.clock: Clock = clock or SystemClock()
        self.listeners = Listeners()
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url, min_size=1, max_size=pool_size, kwargs={"row_factory": dict_row}, open=True
        )

    def migrate(self) -> None:
        upgrade(self.url)

    def start(self) -> None:
        """Nothing to start: connections are made on demand by the pool."""

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Units of work stay in pool threads: PostgreSQL round trips would stall the loop."""

    def unbind(self) -> None:
        """Nothing was bound."""

    def add_listener(self, listener: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.listeners.add(listener, loop)

    def write_sync(self, work: Work[T]) -> T:
        from psycopg import errors

        for attempt in range(RETRIES):
            with self.pool.connection() as conn:
                try:
                    with conn.transaction():
                        uow = SqlUnitOfWork(_PgDb(conn), self.clock.now())
                        result = work(uow)
                except (errors.DeadlockDetected, errors.SerializationFailure):  # lost a race: run it again
                    if attempt == RETRIES - 1:
                        raise
                    continue
            self.listeners.notify(uow.recorded)
            return result
        raise AssertionError("unreachable")

    def read_sync(self, work: Work[T]) -> T:
        with self.pool.connection() as conn, conn.transaction(force_rollback=True):
            return work(SqlUnitOfWork(_PgDb(conn), self.clock.now()))

    async def write(self, work: Work[T]) -> T:
        return await asyncio.to_thread(self.write_sync, work)

    async def read(self, work: Work[T]) -> T:
        return await asyncio.to_thread(self.read_sync, work)

    def close_sync(self) -> None:
        self.pool.close()

    async def close(self) -> None:
        await asyncio.to_thread(self.close_sync)
