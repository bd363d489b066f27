"""SQLite backend: WAL, one writer thread with group commit, a few reader connections.

Requests hand their unit of work to the writer; it runs up to ``MAX_BATCH`` of them inside one
transaction, each under its own savepoint (a failing one rolls back alone), and commits once. That keeps
SQLite's single-writer rule and turns many small commits into one.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpline.core.ports import Clock
from helpline.store.base import Listeners, SystemClock, T, Work
from helpline.store.migrate import upgrade
from helpline.store.sql import SqlUnitOfWork

MAX_BATCH = 64
READERS = 4


def sqlite_path(url: str) -> str:
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not an SQLite URL: {url}")
    return url[len("sqlite:///") :]


def connect(path: str, synchronous: str = "NORMAL") -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


@dataclass(slots=True)
class _Job:
    work: Work[Any]
    future: Future[Any]


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
        self._reader_count = 0
        self._reader_lock = threading.Lock()
        self._writer = threading.Thread(target=self._write_loop, name="helpline-sqlite-writer", daemon=True)
        self._started = False
        self._closed = False

    def migrate(self) -> None:
        upgrade(self.url)

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._writer.start()

    def add_listener(self, listener: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.listeners.add(listener, loop)

    # -- writing ---------------------------------------------------------------------------------

    def _write_loop(self) -> None:
        conn = connect(self.path, self.synchronous)
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                batch = [job]
                while len(batch) < MAX_BATCH:
                    try:
                        more = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        self._jobs.put(None)
                        break
                    batch.append(more)
                self._run_batch(conn, batch)
        finally:
            conn.close()

    def _run_batch(self, conn: sqlite3.Connection, batch: Sequence[_Job]) -> None:
        outcomes: list[tuple[_Job, bool, Any]] = []
        events = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in batch:
                conn.execute("SAVEPOINT work")
                uow = SqlUnitOfWork(conn, self.clock.now())
                try:
                    result = job.work(uow)
                except BaseException as error:  # the job's own failure: undo just its part
                    conn.execute("ROLLBACK TO work")
                    conn.execute("RELEASE work")
                    outcomes.append((job, False, error))
                else:
                    conn.execute("RELEASE work")
                    outcomes.append((job, True, result))
                    events.extend(uow.recorded)
            conn.execute("COMMIT")
        except BaseException as error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(error)
            return
        self.listeners.notify(events)
        for job, ok, value in outcomes:
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)

    def submit(self, work: Work[T]) -> Future[T]:
        if self._closed:
            raise RuntimeError("the store is closed")
        self.start()
        future: Future[T] = Future()
        self._jobs.put(_Job(work, future))
        return future

    async def write(self, work: Work[T]) -> T:
        return await asyncio.wrap_future(self.submit(work))

    def write_sync(self, work: Work[T]) -> T:
        return self.submit(work).result()

    # -- reading ---------------------------------------------------------------------------------

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
        return await asyncio.to_thread(self.read_sync, work)

    # -- closing ---------------------------------------------------------------------------------

    def close_sync(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._started:
            self._jobs.put(None)
            self._writer.join(timeout=30)
        while True:
            try:
                self._readers.get_nowait().close()
            except queue.Empty:
                break

    async def close(self) -> None:
        await asyncio.to_thread(self.close_sync)
