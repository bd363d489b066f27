"""The SQLite store bound to a running event loop: group commit on the loop, other threads handed over."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from helpline.core import admin
from helpline.core.errors import Invalid
from helpline.core.model import Department, Event
from helpline.store import sqlite as sqlite_backend
from helpline.store.sqlite import SqliteStore
from helpline.store.unit_of_work import UnitOfWork


def _store(tmp_path: Path) -> SqliteStore:
    store = SqliteStore(f"sqlite:///{tmp_path / 'bound.db'}")
    store.migrate()
    return store


def test_writes_on_the_loop_commit_in_groups_and_notify_in_order(tmp_path: Path) -> None:
    store = _store(tmp_path)
    heard: list[list[Event]] = []
    batches: list[int] = []
    run_batch = store._run_batch

    def counting(conn: Any, batch: Any) -> Any:
        batches.append(len(batch))
        return run_batch(conn, batch)

    store._run_batch = counting  # type: ignore[method-assign]

    def fail(uow: UnitOfWork) -> None:
        admin.create_account(uow, "doomed")
        raise Invalid("no")

    async def scenario() -> list[Any]:
        loop = asyncio.get_running_loop()
        store.bind(loop)
        store.add_listener(heard.append, loop)
        account = await store.write(lambda uow: admin.create_account(uow, "Acme"))
        results = await asyncio.gather(
            *(store.write(lambda uow, n=n: admin.create_account(uow, f"A{n}").id) for n in range(10)),
            store.write(fail),
            return_exceptions=True,
        )
        # A thread's write_sync is handed to the loop, not run beside it.
        from_thread: list[int] = []
        thread = threading.Thread(
            target=lambda: from_thread.append(store.write_sync(lambda uow: admin.create_account(uow, "T").id))
        )
        thread.start()
        await asyncio.to_thread(thread.join, 10)
        with pytest.raises(RuntimeError, match="block the event loop"):
            store.write_sync(lambda uow: None)
        names = await store.read(lambda uow: [a.name for a in uow.accounts.list()])
        await store.close()
        return [account.id, results, from_thread, names]

    account_id, results, from_thread, names = asyncio.run(scenario())
    assert account_id == 1
    assert results[:10] == list(range(2, 12))
    assert isinstance(results[10], Invalid)
    assert from_thread == [12]
    assert names == ["Acme", *(f"A{n}" for n in range(10)), "T"]
    assert batches[:2] == [1, 11]  # the gathered writes went as one group; the failing one alone undone
    assert heard == []  # accounts emit no events; the listener is only called with events


def test_events_reach_listeners_in_commit_order(tmp_path: Path) -> None:
    from helpline.core.events import NewEvent
    from helpline.core.model import SYSTEM

    store = _store(tmp_path)
    account = store.write_sync(lambda uow: admin.create_account(uow, "Acme"))
    heard: list[int] = []

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        store.bind(loop)
        store.add_listener(lambda events: heard.extend(e.seq for e in events), loop)

        def emit(uow: UnitOfWork) -> int:
            return uow.emit(NewEvent(account_id=account.id, type="test.event", data={}, actor=SYSTEM)).seq

        await asyncio.gather(*(store.write(emit) for _ in range(50)))
        await asyncio.sleep(0)
        await store.close()

    asyncio.run(scenario())
    assert heard == list(range(1, 51))


def _department(store: SqliteStore) -> tuple[int, int]:
    def seed(uow: UnitOfWork) -> tuple[int, int]:
        account = uow.accounts.create("Acme", 1.0)
        department = uow.departments.create(Department(id=0, account_id=account.id, name="Support"))
        return account.id, department.id

    return store.write_sync(seed)


def _page_size(path: str) -> int:
    conn = sqlite3.connect(path)
    try:
        size: int = conn.execute("PRAGMA page_size").fetchone()[0]
        return size
    finally:
        conn.close()


def test_the_wal_stays_bounded_under_continuous_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Back-to-back commits never leave a passive checkpoint the moment it needs to catch up, so without
    the restarts the WAL would keep every frame ever written (measured: 30,000 frames for this run); with
    them it stays within a few checkpoint intervals of ``RESTART_FRAMES`` (measured: 500 to 1,050 frames,
    the high end with four runs at once on two cores)."""
    monkeypatch.setattr(sqlite_backend, "RESTART_FRAMES", 50)
    monkeypatch.setattr(sqlite_backend, "CHECKPOINT_SECONDS", 0.005)
    store = _store(tmp_path)
    account_id, department_id = _department(store)
    page = _page_size(store.path)
    frame = 24 + page
    bound = 50 * sqlite_backend.RESTART_FRAMES * frame
    writes, size = 10_000, 2 * page
    # Every byte of the name changes with each write: each commit appends at least this many frames.
    written = writes * (size // page) * frame
    wal = Path(f"{store.path}-wal")

    async def scenario() -> tuple[int, Department | None]:
        store.bind(asyncio.get_running_loop())
        largest = 0
        for n in range(writes):
            name = str(n % 10) * size

            def rename(uow: UnitOfWork, name: str = name) -> None:
                uow.departments.update(department_id, {"name": name})

            await store.write(rename)
            largest = max(largest, wal.stat().st_size)  # noqa: ASYNC240 -- microseconds, and must see each commit
        last = await store.read(lambda uow: uow.departments.get(account_id, department_id))
        await store.close()
        return largest, last

    largest, last = asyncio.run(scenario())
    assert written > 5 * bound  # what was written would not fit under the bound without restarts
    assert largest < bound
    assert last is not None
    assert last.name == str((writes - 1) % 10) * size


class _LockHolder:
    """Another connection (a CLI command, say) holding SQLite's write lock until released."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.held = threading.Event()
        self.release = threading.Event()
        self.released_at = 0.0
        self.thread = threading.Thread(target=self._hold, name="lock-holder", daemon=True)

    def _hold(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=5)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE accounts SET name = 'held' WHERE id = 1")
            self.held.set()
            self.release.wait(10)
            self.released_at = time.monotonic()
            conn.execute("COMMIT")
        finally:
            conn.close()

    async def take(self) -> None:
        self.thread.start()
        assert await asyncio.to_thread(self.held.wait, 5)

    async def let_go(self) -> None:
        self.release.set()
        await asyncio.to_thread(self.thread.join, 5)
        assert not self.thread.is_alive()


def test_a_held_write_lock_delays_the_write_but_never_the_loop(tmp_path: Path) -> None:
    """SQLite's own busy wait would sleep inside the loop's thread and stall every request."""
    store = _store(tmp_path)
    account_id, department_id = _department(store)
    holder = _LockHolder(store.path)
    ticks: list[float] = []

    async def tick() -> None:
        while True:
            await asyncio.sleep(0.01)
            ticks.append(time.monotonic())

    async def scenario() -> tuple[float, float, Department | None]:
        loop = asyncio.get_running_loop()
        store.bind(loop)
        await holder.take()
        ticker = asyncio.create_task(tick())
        loop.call_later(0.3, holder.release.set)
        asked = time.monotonic()
        await store.write(lambda uow: uow.departments.update(department_id, {"name": "Sales"}))
        done = time.monotonic()
        ticker.cancel()
        await holder.let_go()
        found = await store.read(lambda uow: uow.departments.get(account_id, department_id))
        await store.close()
        return asked, done, found

    asked, done, found = asyncio.run(scenario())
    assert done >= holder.released_at > asked
    during = [t for t in ticks if asked < t < holder.released_at]
    assert len(during) >= 10  # about 30 ticks of 10 ms in the 0.3 s the lock was held
    assert found is not None
    assert found.name == "Sales"


def test_a_write_lock_held_too_long_fails_the_write_and_the_next_one_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The give-up is what a blocking busy_timeout would have raised, so callers see the same error."""
    monkeypatch.setattr(sqlite_backend, "BUSY_GIVE_UP_SECONDS", 0.2)
    store = _store(tmp_path)
    account_id, department_id = _department(store)
    holder = _LockHolder(store.path)

    async def scenario() -> tuple[float, list[str]]:
        store.bind(asyncio.get_running_loop())
        await holder.take()
        asked = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            await store.write(lambda uow: uow.departments.update(department_id, {"name": "Lost"}))
        waited = time.monotonic() - asked
        await holder.let_go()
        await store.write(lambda uow: uow.departments.update(department_id, {"name": "Kept"}))
        names = await store.read(lambda uow: [d.name for d in uow.departments.list(account_id)])
        await store.close()
        return waited, names

    waited, names = asyncio.run(scenario())
    assert 0.2 <= waited < 2.0
    assert names == ["Kept"]


def test_extended_busy_codes_are_retried_not_fatal() -> None:
    """SQLite reports busy as an extended code (SQLITE_BUSY_RECOVERY while another connection rebuilds
    the WAL index right after start-up): the loop writer must retry those, not fail every queued write."""
    from helpline.store.sqlite_connection import is_busy as _is_busy

    def error(code: int) -> sqlite3.OperationalError:
        found = sqlite3.OperationalError("database is locked")
        found.sqlite_errorcode = code
        return found

    assert all(_is_busy(error(code)) for code in (5, 6, 261, 517, 773, 262))
    assert not any(_is_busy(error(code)) for code in (1, 11, 266))
    assert not _is_busy(sqlite3.OperationalError("no errorcode at all"))
