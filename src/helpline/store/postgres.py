"""PostgreSQL backend: the shared store when several ``helpline serve`` processes run side by side.

Writes go through group commit, as on SQLite: one writer thread per process, on its own connection,
takes every unit of work queued while it was busy (up to ``MAX_BATCH``) and runs them in one transaction,
each under its own savepoint so that a failing one is undone alone, then commits once. Measured with
``python -m bench``: a unit of work per transaction paid a commit (a WAL flush) per message and held the
events' counter row across its round trips and that commit, so writers queued behind the row lock; a group
pays one commit and takes the counter row once (:class:`SeqRange`), so the lock is held once per group.

The events' sequence stays gap-free and in commit order across processes: the counter row is locked
(``FOR UPDATE``) by the first event of a group and written back before the commit, so another process's
writer waits for the commit, then reads the new value. A unit rolled back to its savepoint gives back the
numbers it took (and the row lock, if it was the one that took it; see ``SeqRange.mark``).

A group runs in pipeline mode (:meth:`PostgresStore._run_pipelined`): statements go out without waiting
for answers nobody reads, and rows of known keys are written together, so a customer's message costs one
round trip. A unit that lost a race runs again alone the careful way (:meth:`PostgresStore._run_batch`:
one round trip per statement).

A unit of work that loses a deadlock or a serialization race is run again from the start, alone in a
later group (it holds no state of its own outside the transaction), up to a few times. Reads run on
pooled connections in worker threads.

Savepoints cost subtransaction ids: past 64 in one transaction PostgreSQL's snapshots "overflow" and get
slower for every session, hence a group of at most ``MAX_BATCH``.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from helpline.core.model import Event
from helpline.core.ports import Clock
from helpline.store.base import WRITE_INSIDE_A_UNIT, Listeners, SystemClock, T, Work, next_batch, settle
from helpline.store.migrate import upgrade
from helpline.store.pg_db import PgDb, PipelinedDb, SeqRange
from helpline.store.sql import SqlUnitOfWork

if TYPE_CHECKING:  # psycopg is imported when a PostgreSQL store is opened, not by every CLI command
    import psycopg
    from psycopg_pool import ConnectionPool

RETRIES = 5
MAX_BATCH = 32


@dataclass(slots=True)
class _Job:
    work: Work[Any]
    settle: Callable[[bool, Any], None]
    tries: int = 0


class _Outcomes:
    """What became of a group's units: settled after the commit, in order; those that lost a race run again."""

    def __init__(self) -> None:
        self.settled: list[tuple[_Job, bool, Any]] = []
        self.again: list[_Job] = []
        self.events: list[Event] = []

    def succeeded(self, job: _Job, result: Any, uow: SqlUnitOfWork) -> None:
        self.settled.append((job, True, result))
        self.events.extend(uow.recorded)

    def failed(self, job: _Job, error: Exception) -> None:
        if _retryable(error) and job.tries < RETRIES - 1:
            job.tries += 1
            self.again.append(job)
        else:
            self.settled.append((job, False, error))

    def settle(self, listeners: Listeners) -> list[_Job]:
        listeners.notify(self.events)
        for job, ok, value in self.settled:
            job.settle(ok, value)
        return self.again


def _roll_back(conn: psycopg.Connection[Any]) -> None:
    with contextlib.suppress(Exception):
        if not conn.closed:
            conn.execute("ROLLBACK")


def _retryable(error: BaseException) -> bool:
    from psycopg import errors

    return isinstance(error, errors.DeadlockDetected | errors.SerializationFailure)


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
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_loop, name="helpline-postgres-writer", daemon=True)
        self._start_lock = threading.Lock()
        self._started = False
        self._closed = False

    def migrate(self) -> None:
        upgrade(self.url)

    def start(self) -> None:
        with self._start_lock:
            if not self._started:
                self._started = True
                self._writer.start()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Units of work stay off the loop: PostgreSQL round trips would stall it."""

    def unbind(self) -> None:
        """Nothing was bound."""

    def add_listener(self, listener: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.listeners.add(listener, loop)

    # -- the writer thread ---------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        import psycopg
        from psycopg.rows import dict_row

        return psycopg.connect(self.url, autocommit=True, row_factory=dict_row)

    def _write_loop(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        retry: list[_Job] = []
        try:
            while True:
                careful = bool(retry)
                if retry:  # a unit that lost a race runs alone, first, the careful way
                    batch = [retry.pop(0)]
                else:
                    taken = next_batch(self._jobs, MAX_BATCH)
                    if taken is None:
                        return
                    batch = taken
                if conn is None or conn.closed:
                    try:
                        conn = self._connect()
                    except BaseException as error:
                        for job in batch:
                            job.settle(False, error)
                        continue
                retry.extend(self._run_batch(conn, batch) if careful else self._run_pipelined(conn, batch))
        finally:
            if conn is not None:
                conn.close()

    def _run_pipelined(self, conn: psycopg.Connection[Any], batch: Sequence[_Job]) -> list[_Job]:
        """Run a group in one transaction in pipeline mode; settle each job; give back the jobs to run again.

        A statement whose answer nobody reads goes out without waiting for it, and INSERTs of known keys
        are held and written together (``pg_db.PipelinedDb``): a customer's message costs one round trip
        (its conversation's ``UPDATE ... RETURNING``) instead of five, and the writer thread, which every
        write of the process goes through, sends two statements for it instead of seven. Each unit still
        has its savepoint and its own errors, as in :meth:`_run_batch`.
        """
        outcomes = _Outcomes()
        seqs = SeqRange()
        try:
            with conn.pipeline() as pipeline:
                db = PipelinedDb(conn, seqs, pipeline)
                conn.execute("BEGIN")
                for job in batch:
                    mark = seqs.mark()
                    uow = SqlUnitOfWork(db, self.clock.now())
                    try:
                        result = job.work(uow)
                        db.end_unit()
                    except Exception as error:  # the unit's own failure, or the database's refusal of it
                        db.undo_unit()
                        seqs.reset(mark)
                        outcomes.failed(job, error)
                    else:
                        outcomes.succeeded(job, result, uow)
                db.finish()
                seqs.write_back(conn)
                conn.execute("COMMIT")
        except BaseException as error:
            _roll_back(conn)
            for job in batch:
                job.settle(False, error)
            if not isinstance(error, Exception):
                raise
            return []
        return outcomes.settle(self.listeners)

    def _run_batch(self, conn: psycopg.Connection[Any], batch: Sequence[_Job]) -> list[_Job]:
        """Run a group in one transaction; settle each job; give back the jobs to run again."""
        outcomes = _Outcomes()
        seqs = SeqRange()
        db = PgDb(conn, seqs)
        savepoints = len(batch) > 1
        try:
            conn.execute("BEGIN")
            if savepoints:
                conn.execute("SAVEPOINT work")
            for index, job in enumerate(batch):
                mark = seqs.mark()
                uow = SqlUnitOfWork(db, self.clock.now())
                try:
                    result = job.work(uow)
                except Exception as error:  # the job's own failure
                    if not savepoints:
                        raise
                    conn.execute("ROLLBACK TO SAVEPOINT work")
                    seqs.reset(mark)
                    outcomes.failed(job, error)
                else:
                    outcomes.succeeded(job, result, uow)
                if savepoints:
                    last = index == len(batch) - 1
                    conn.execute(
                        "RELEASE SAVEPOINT work" if last else "RELEASE SAVEPOINT work; SAVEPOINT work"
                    )
            seqs.write_back(conn)
            conn.execute("COMMIT")
        except BaseException as error:
            _roll_back(conn)
            again: list[_Job] = []
            for job in batch:
                if isinstance(error, Exception) and _retryable(error) and job.tries < RETRIES - 1:
                    job.tries += 1
                    again.append(job)
                else:
                    job.settle(False, error)
            if not isinstance(error, Exception):
                raise
            return again
        return outcomes.settle(self.listeners)

    # -- the interface ---------------------------------------------------------------------------------

    def _submit(self, job: _Job) -> None:
        if self._closed:
            raise RuntimeError("the store is closed")
        self.start()
        self._jobs.put(job)

    def write_sync(self, work: Work[T]) -> T:
        if threading.current_thread() is self._writer:
            raise RuntimeError(WRITE_INSIDE_A_UNIT)
        future: Future[T] = Future()
        self._submit(_Job(work, lambda ok, value: settle(future, ok, value)))
        return future.result()

    async def write(self, work: Work[T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def settle_on_loop(ok: bool, value: Any) -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(settle, future, ok, value)

        self._submit(_Job(work, settle_on_loop))
        return await future

    def read_sync(self, work: Work[T]) -> T:
        with self.pool.connection() as conn, conn.transaction(force_rollback=True):
            return work(SqlUnitOfWork(PgDb(conn), self.clock.now()))

    async def read(self, work: Work[T]) -> T:
        return await asyncio.to_thread(self.read_sync, work)

    def close_sync(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._started:
            self._jobs.put(None)
            self._writer.join(timeout=30)
        self.pool.close()

    async def close(self) -> None:
        await asyncio.to_thread(self.close_sync)
