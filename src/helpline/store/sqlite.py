"""SQLite backend: WAL, one writer with group commit, a few reader connections.

Units of work are queued to the one writer, which runs up to ``MAX_BATCH`` of them inside one
transaction, each under its own savepoint (a failing one rolls back alone), and commits once. That keeps
SQLite's single-writer rule and turns many small commits into one.

Where the writer runs depends on who uses the store:

- **Bound to the server's event loop** (``bind``, done by the server at start-up): the writer runs on the
  loop itself, between requests. With the GIL, a second Python thread adds no throughput, only hand-offs
  and forced switches that cost more than the unit of work (measured with ``python -m bench``). Units of
  work are short and SQLite's commit does not fsync in WAL with ``synchronous=NORMAL``; the fsyncs of
  checkpoints are moved to a background thread so they never stall the loop. Calls from other threads
  are handed to the loop. The loop never waits for SQLite's write lock: when someone else holds it (the
  checkpointer restarting the WAL, a CLI command in another process) the group is retried a moment
  later and requests keep being served meanwhile.
- **Unbound** (the CLI, scripts, tests of the store itself): a dedicated writer thread does the same.

The WAL is kept bounded. A checkpoint running beside a busy writer never catches up with it, and SQLite
only starts the WAL over when a checkpoint has copied every frame, so under steady load the file would
grow without end, and every commit would pay for extending it (measured: 50 KB of WAL per message and a
third of the server's time). The checkpointer therefore copies in the background without any lock
(``PASSIVE``) and, once the WAL is past ``RESTART_FRAMES``, copies the last few frames while holding the
write lock (``RESTART``), so the writer's next transaction starts the WAL from its beginning again.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpline.core.model import Event
from helpline.core.ports import Clock
from helpline.store.base import WRITE_INSIDE_A_UNIT, Listeners, SystemClock, T, Work, next_batch, settle
from helpline.store.migrate import upgrade
from helpline.store.sql import SqlUnitOfWork
from helpline.store.sqlite_connection import (
    BUSY_GIVE_UP_SECONDS,
    checkpointer_busy,
    connect,
    is_busy,
    sqlite_path,
)

MAX_BATCH = 64
CHECKPOINT_SECONDS = 0.1
# Pages (64 MiB with the default page size). Each restart holds the writer off for 1-8 ms (copying the
# last frames and syncing). At half load on the 2-core VM (~3,600 msg/s, ~3.5 WAL pages per message) a
# 4000-page WAL restarted three times a second, and 54 of the 128 messages over 10 ms had met a restart
# (python -m bench --lag-profile); at 16000 pages there are a quarter as many. The WAL file is reused
# after a restart: this is its size on disk, not its growth.
RESTART_FRAMES = 16_000
STAND_ASIDE_WAIT_SECONDS = 0.002  # how long the checkpointer waits for the loop writer to stand aside
RESTART_BUSY_MS = 10  # how long a RESTART may hold the writer off waiting for readers (it retries later)
BUSY_RETRY_SECONDS = 0.001  # the loop writer's pause before trying the write lock again
WATCHED_SECONDS = 0.001  # with a wait watcher (a profile): batches and commits at least this long are told

# kind, when it started (time.perf_counter), how long it took (s), a detail
WaitWatcher = Callable[[str, float, float, Any], None]


@dataclass(slots=True)
class _Job:
    work: Work[Any]
    future: Future[Any] | asyncio.Future[Any]


class SqliteStore:
    def __init__(self, url: str, clock: Clock | None = None, synchronous: str = "NORMAL") -> None:
        self.url = url
        self.path = sqlite_path(url)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.clock: Clock = clock or SystemClock()
        self.synchronous = synchronous
        self.listeners = Listeners()
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_loop, name="helpline-sqlite-writer", daemon=True)
        self._started = False
        self._closed = False
        # Bound mode: the writer connection, the loop that owns it, the jobs waiting for its next turn.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_conn: sqlite3.Connection | None = None
        self._pending: list[_Job] = []
        self._flush_scheduled = False
        self._busy_since: float | None = None
        self._writer_stand_aside = threading.Event()
        self._writer_stood_aside = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self._stop_checkpoints = threading.Event()
        self._watcher: WaitWatcher | None = None

    def watch_waits(self, watcher: WaitWatcher) -> None:
        """Tell ``watcher`` of the waits on the write path (a loop-lag profile): group commits and their
        COMMIT past ``WATCHED_SECONDS``, the loop writer held off the lock, the checkpointer's copies."""
        self._watcher = watcher

    def migrate(self) -> None:
        upgrade(self.url)

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._writer.start()

    def add_listener(self, listener: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.listeners.add(listener, loop)

    # -- the batch, wherever it runs ---------------------------------------------------------------

    def _run_batch(
        self, conn: sqlite3.Connection, batch: Sequence[_Job]
    ) -> list[tuple[_Job, bool, Any]] | None:
        """Run a batch in one transaction (begun here unless the caller began it); None if the commit
        itself failed (every job then failed).

        Each job of a group runs under its own savepoint, so a failing one is undone alone; a job alone
        needs none (its failure rolls back the transaction). Jobs are never run twice: a unit of work may
        change the objects it was handed, so a second run would not start from the same place.
        """
        outcomes: list[tuple[_Job, bool, Any]] = []
        events: list[Event] = []
        try:
            if not conn.in_transaction:
                conn.execute("BEGIN IMMEDIATE")
            if len(batch) == 1:
                failure = self._run_all(conn, batch, outcomes, events, savepoints=False)
                if failure is not None:
                    conn.execute("ROLLBACK")
                    return [(batch[0], False, failure)]
            else:
                self._run_all(conn, batch, outcomes, events, savepoints=True)
            if self._watcher is None:
                conn.execute("COMMIT")
            else:
                committing = time.perf_counter()
                conn.execute("COMMIT")
                took = time.perf_counter() - committing
                if took >= WATCHED_SECONDS:
                    self._watcher("commit", committing, took, len(batch))
        except BaseException as error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for job in batch:
                settle(job.future, False, error)
            return None
        self.listeners.notify(events)
        return outcomes

    def _run_all(
        self,
        conn: sqlite3.Connection,
        batch: Sequence[_Job],
        outcomes: list[tuple[_Job, bool, Any]],
        events: list[Event],
        savepoints: bool,
    ) -> BaseException | None:
        """Run every job; without savepoints, stop at the first failure and return it."""
        for job in batch:
            if savepoints:
                conn.execute("SAVEPOINT work")
            uow = SqlUnitOfWork(conn, self.clock.now())
            try:
                result = job.work(uow)
            except BaseException as error:  # the job's own failure
                if not savepoints:
                    return error
                conn.execute("ROLLBACK TO work")
                conn.execute("RELEASE work")
                outcomes.append((job, False, error))
            else:
                if savepoints:
                    conn.execute("RELEASE work")
                outcomes.append((job, True, result))
                events.extend(uow.recorded)
        return None

    # -- unbound: the writer thread ------------------------------------------------------------------

    def _write_loop(self) -> None:
        conn = connect(self.path, self.synchronous)
        try:
            while True:
                batch = next_batch(self._jobs, MAX_BATCH)
                if batch is None:
                    return
                for done, ok, value in self._run_batch(conn, batch) or ():
                    settle(done.future, ok, value)
        finally:
            conn.close()

    # -- bound: the writer on the event loop ---------------------------------------------------------

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run the writer on ``loop`` from now on (call from that loop, before serving requests)."""
        conn = connect(self.path, self.synchronous)
        conn.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer thread does it, off the loop
        conn.execute("PRAGMA busy_timeout=0")  # a busy write lock is retried by _flush, never waited for
        self._loop_conn = conn
        self._loop = loop
        self._stop_checkpoints.clear()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name="helpline-sqlite-checkpoint", daemon=True
        )
        self._checkpointer.start()

    def unbind(self) -> None:
        """Back to the writer thread (at shutdown, from the loop): what is queued is committed first."""
        self._stop_checkpoints.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=10)
            self._checkpointer = None
        while self._pending:
            self._flush()
            if self._pending:  # the write lock is held by another process: nothing else to do but wait
                time.sleep(BUSY_RETRY_SECONDS)
        self._loop = None
        if self._loop_conn is not None:
            self._loop_conn.close()
            self._loop_conn = None

    def _checkpoint_loop(self) -> None:
        conn = connect(self.path, self.synchronous)
        conn.execute(f"PRAGMA busy_timeout={RESTART_BUSY_MS}")
        try:
            while not self._stop_checkpoints.wait(CHECKPOINT_SECONDS):
                with contextlib.suppress(sqlite3.Error):
                    self.checkpoint(conn)
        finally:
            conn.close()

    def checkpoint(self, conn: sqlite3.Connection) -> None:
        """Copy the WAL into the database without blocking anyone; past ``RESTART_FRAMES`` of WAL, copy
        the rest under the write lock so that the next write starts the WAL over (see the module).

        The loop writer takes the lock again within microseconds of a commit, so the checkpointer would
        starve waiting for it; it asks the loop to stand aside until it is done, and waits for the loop to
        say it has (SQLite's own wait for a busy lock sleeps a millisecond or more at a time, and every
        millisecond here is a millisecond without commits)."""
        started = time.perf_counter()
        _busy, frames, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if self._watcher is not None:
            self._watcher("checkpoint_passive", started, time.perf_counter() - started, frames)
        if frames >= RESTART_FRAMES:
            # Once more without any lock: the writer went on during that copy, and what it added is
            # what RESTART would otherwise have to copy while the writer waits.
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self._writer_stood_aside.clear()
            self._writer_stand_aside.set()
            holding = time.perf_counter()
            try:
                # An idle loop never answers, but then the lock is free anyway.
                self._writer_stood_aside.wait(STAND_ASIDE_WAIT_SECONDS)
                conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
            finally:
                self._writer_stand_aside.clear()
                loop = self._loop
                if loop is not None:
                    # The loop writer retries the lock on a 1 ms timer; don't make it wait for that tick.
                    with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                        loop.call_soon_threadsafe(self._flush_if_waiting)
                if self._watcher is not None:
                    self._watcher("checkpoint_restart", holding, time.perf_counter() - holding, frames)

    def _enqueue(self, job: _Job) -> None:
        self._pending.append(job)
        if not self._flush_scheduled and self._loop is not None:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush_next_turn)

    def _flush_next_turn(self) -> None:
        """Commit one turn of the loop later than the first job asked: the requests read in that turn
        join the group. Measured under load: larger groups, fewer pages per message, +10% throughput;
        the added wait is one turn of the loop (microseconds when idle, no timer involved)."""
        if self._loop is not None:
            self._loop.call_soon(self._flush)
        else:
            self._flush()

    def _flush_if_waiting(self) -> None:
        """The checkpointer let go of the lock: commit what waited for it now."""
        if self._pending and self._busy_since is not None:
            self._flush()

    def _flush(self) -> None:
        """Commit what requests queued since the last turn of the loop, as one group."""
        self._flush_scheduled = False
        if not self._pending:
            return
        if self._loop_conn is None:
            self._fail_pending(RuntimeError("the store is closed"))
            return
        if not self._begin_on_loop(self._loop_conn):
            return
        batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        if self._pending and self._loop is not None:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)
        watcher = self._watcher
        started = 0.0 if watcher is None else time.perf_counter()
        for done, ok, value in self._run_batch(self._loop_conn, batch) or ():
            settle(done.future, ok, value)
        if watcher is not None and (took := time.perf_counter() - started) >= WATCHED_SECONDS:
            watcher("group", started, took, len(batch))

    def _begin_on_loop(self, conn: sqlite3.Connection) -> bool:
        """Take the write lock without waiting for it: if it is busy, leave the jobs queued and try again
        shortly (failing them once it has been busy for ``BUSY_GIVE_UP_SECONDS``)."""
        assert self._loop is not None
        try:
            if self._writer_stand_aside.is_set():
                self._writer_stood_aside.set()
                raise checkpointer_busy()
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            now = self._loop.time()
            if self._busy_since is None:
                self._busy_since = now
            if not is_busy(error) or now - self._busy_since >= BUSY_GIVE_UP_SECONDS:
                self._busy_since = None
                self._fail_pending(error)
            elif not self._flush_scheduled:
                self._flush_scheduled = True
                self._loop.call_later(BUSY_RETRY_SECONDS, self._flush)
            return False
        if self._busy_since is not None and self._watcher is not None:
            held = self._loop.time() - self._busy_since
            self._watcher("writer_held_off", time.perf_counter() - held, held, None)
        self._busy_since = None
        return True

    def _fail_pending(self, error: BaseException) -> None:
        pending, self._pending = self._pending, []
        for job in pending:
            settle(job.future, False, error)

    def _in_loop(self) -> bool:
        if self._loop is None:
            return False
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    # -- the interface ---------------------------------------------------------------------------------

    def submit(self, work: Work[T]) -> Future[T]:
        """Queue a unit of work from any thread; the future settles once it is committed (or refused)."""
        if self._closed:
            raise RuntimeError("the store is closed")
        future: Future[T] = Future()
        loop = self._loop
        if loop is not None:
            if self._in_loop():
                self._enqueue(_Job(work, future))
            else:
                loop.call_soon_threadsafe(self._enqueue, _Job(work, future))
            return future
        self.start()
        self._jobs.put(_Job(work, future))
        return future

    async def write(self, work: Work[T]) -> T:
        if self._in_loop():
            if self._closed:
                raise RuntimeError("the store is closed")
            assert self._loop is not None
            future: asyncio.Future[T] = self._loop.create_future()
            self._enqueue(_Job(work, future))
            return await future
        return await asyncio.wrap_future(self.submit(work))

    def write_sync(self, work: Work[T]) -> T:
        if self._in_loop():
            raise RuntimeError("write_sync would block the event loop that runs the writer: await write()")
        if threading.current_thread() is self._writer:
            raise RuntimeError(WRITE_INSIDE_A_UNIT)
        return self.submit(work).result()

    def _reader(self) -> sqlite3.Connection:
        try:
            return self._readers.get_nowait()
        except queue.Empty:
            return connect(self.path, self.synchronous)

    def read_sync(self, work: Work[T]) -> T:
        conn = self._reader()
        try:
            conn.execute("BEGIN")
            try:
                return work(SqlUnitOfWork(conn, self.clock.now()))
            finally:
                conn.execute("ROLLBACK")
        finally:
            self._readers.put(conn)

    async def read(self, work: Work[T]) -> T:
        if self._in_loop():
            # Reads of a few rows take microseconds: a thread hop would cost more than the read.
            return self.read_sync(work)
        return await asyncio.to_thread(self.read_sync, work)

    def close_sync(self) -> None:
        if self._closed:
            return
        if self._in_loop():
            self.unbind()
        self._closed = True
        if self._started:
            self._jobs.put(None)
            self._writer.join(timeout=30)
        self._stop_checkpoints.set()  # a store left bound by a loop that died without shutting down
        while True:
            try:
                self._readers.get_nowait().close()
            except queue.Empty:
                break

    async def close(self) -> None:
        if self._in_loop():
            self.unbind()
        await asyncio.to_thread(self.close_sync)
