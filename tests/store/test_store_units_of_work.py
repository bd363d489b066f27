"""The write/read boundary: a unit of work commits whole or not at all; committed events reach listeners."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from concurrent.futures import Future
from typing import Any

import psycopg
import pytest
from store_backends import add_agent, add_department

from helpline.core.events import NewEvent
from helpline.core.model import SYSTEM, Event
from helpline.store.base import Store
from helpline.store.sqlite import SqliteStore
from helpline.store.unit_of_work import UnitOfWork


class Refused(Exception):
    pass


def _names(store: Store) -> list[str]:
    return [a.name for a in store.read_sync(lambda uow: uow.accounts.list())]


def insert_then_fail(name: str) -> Any:
    def work(uow: UnitOfWork) -> None:
        account = uow.accounts.create(name, uow.now)
        add_department(uow, account.id)
        uow.emit(NewEvent(account.id, "test.failed", {}, SYSTEM))
        raise Refused(name)

    return work


def insert(name: str) -> Any:
    def work(uow: UnitOfWork) -> int:
        account = uow.accounts.create(name, uow.now)
        return uow.emit(NewEvent(account.id, "test.kept", {"name": name}, SYSTEM)).seq

    return work


def test_a_failing_unit_of_work_leaves_nothing_written(any_store: Store) -> None:
    with pytest.raises(Refused):
        any_store.write_sync(insert_then_fail("Ghost"))
    assert _names(any_store) == []
    assert any_store.read_sync(lambda uow: (uow.departments.list(), uow.events.last_seq())) == ([], 0)
    assert any_store.write_sync(insert("Real")) == 1
    assert _names(any_store) == ["Real"]


def test_a_failing_async_write_leaves_nothing_written(any_store: Store) -> None:
    async def main() -> int:
        with pytest.raises(Refused):
            await any_store.write(insert_then_fail("Ghost"))
        return await any_store.write(insert("Real"))

    assert asyncio.run(main()) == 1
    assert _names(any_store) == ["Real"]


def test_a_database_error_rolls_back_the_whole_unit(any_store: Store) -> None:
    account = any_store.write_sync(lambda uow: uow.accounts.create("Acme", uow.now))
    taken = any_store.write_sync(lambda uow: add_agent(uow, account.id, "Alice", []))

    def half_then_clash(uow: UnitOfWork) -> None:
        add_department(uow, account.id, "Half")
        uow.emit(NewEvent(account.id, "test.half", {}, SYSTEM))
        add_agent(uow, account.id, "Clash", [])
        uow.db.execute("UPDATE agents SET email = ? WHERE name = 'Clash'", [taken.email])

    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        any_store.write_sync(half_then_clash)
    assert any_store.read_sync(lambda uow: uow.departments.list()) == []
    assert [a.name for a in any_store.read_sync(lambda uow: uow.agents.list())] == ["Alice"]
    assert any_store.read_sync(lambda uow: uow.events.last_seq()) == 0


def test_concurrent_writers_one_failing_the_others_commit(any_store: Store) -> None:
    barrier = threading.Barrier(6)
    outcomes: dict[str, object] = {}
    lock = threading.Lock()

    def run(name: str) -> None:
        barrier.wait(timeout=10)
        work = insert_then_fail(name) if name == "bad" else insert(name)
        try:
            result: object = any_store.write_sync(work)
        except Refused as error:
            result = error
        with lock:
            outcomes[name] = result

    names = ["a", "b", "bad", "c", "d", "e"]
    threads = [threading.Thread(target=run, args=(n,)) for n in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert isinstance(outcomes.pop("bad"), Refused)
    seqs = [v for v in outcomes.values() if isinstance(v, int)]
    assert sorted(seqs) == [1, 2, 3, 4, 5]
    assert sorted(_names(any_store)) == ["a", "b", "c", "d", "e"]
    assert [e.seq for e in any_store.read_sync(lambda uow: uow.events.after(0, 100))] == [1, 2, 3, 4, 5]


def test_sqlite_group_commit_keeps_the_batch_when_one_job_fails(sqlite_store: SqliteStore) -> None:
    """Hold the writer so the next jobs pile up, then release: they run as one batch, one of them raising."""
    any_store = sqlite_store
    batches: list[int] = []
    run_batch = any_store._run_batch

    def counting(conn: sqlite3.Connection, batch: Any) -> Any:
        batches.append(len(batch))
        return run_batch(conn, batch)

    any_store._run_batch = counting  # type: ignore[method-assign]
    holding, release = threading.Event(), threading.Event()

    def hold(uow: UnitOfWork) -> str:
        holding.set()
        release.wait(timeout=10)
        return "held"

    held = any_store.submit(hold)
    assert holding.wait(timeout=10)
    jobs = ["a", "b", "bad", "c", "bad2", "d"]
    futures: dict[str, Future[Any]] = {
        name: any_store.submit(insert_then_fail(name) if name.startswith("bad") else insert(name))
        for name in jobs
    }
    release.set()

    assert held.result(timeout=10) == "held"
    for name in ("bad", "bad2"):
        with pytest.raises(Refused, match=name):
            futures[name].result(timeout=10)
    assert [futures[n].result(timeout=10) for n in ("a", "b", "c", "d")] == [1, 2, 3, 4]
    assert batches == [1, 6]
    assert _names(any_store) == ["a", "b", "c", "d"]
    assert any_store.read_sync(lambda uow: uow.departments.list()) == []


def test_sqlite_a_job_that_breaks_sql_only_undoes_itself(sqlite_store: SqliteStore) -> None:
    any_store = sqlite_store
    holding, release = threading.Event(), threading.Event()
    held = any_store.submit(lambda uow: (holding.set(), release.wait(timeout=10)))
    assert holding.wait(timeout=10)

    def bad_sql(uow: UnitOfWork) -> None:
        uow.accounts.create("half", uow.now)
        uow.db.execute("INSERT INTO no_such_table VALUES (1)")

    before = any_store.submit(insert("before"))
    broken = any_store.submit(bad_sql)
    after = any_store.submit(insert("after"))
    release.set()
    held.result(timeout=10)

    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        broken.result(timeout=10)
    assert (before.result(timeout=10), after.result(timeout=10)) == (1, 2)
    assert _names(any_store) == ["before", "after"]


def test_write_sync_inside_a_unit_of_work_is_refused_not_a_deadlock(any_store: Store) -> None:
    """The unit runs on the writer: a write_sync from it would wait for the writer, that is for itself."""

    def nested(uow: UnitOfWork) -> None:
        uow.accounts.create("outer", uow.now)
        any_store.write_sync(insert("inner"))

    with pytest.raises(RuntimeError, match="would wait for itself"):
        any_store.write_sync(nested)
    assert _names(any_store) == []
    assert any_store.write_sync(insert("after")) == 1  # the writer goes on


def test_read_never_writes(any_store: Store) -> None:
    any_store.read_sync(lambda uow: uow.accounts.create("Read", uow.now))

    async def main() -> None:
        await any_store.read(lambda uow: uow.accounts.create("AsyncRead", uow.now))

    asyncio.run(main())
    assert _names(any_store) == []


def test_listeners_get_committed_events_in_order_and_never_rolled_back_ones(any_store: Store) -> None:
    async def main() -> list[list[Event]]:
        heard: list[list[Event]] = []
        got_all = asyncio.Event()

        def listener(events: list[Event]) -> None:
            heard.append(events)
            if sum(len(e) for e in heard) >= 3:
                got_all.set()

        any_store.add_listener(listener, asyncio.get_running_loop())

        def two(uow: UnitOfWork) -> None:
            uow.emit(NewEvent(1, "one", {}, SYSTEM))
            uow.emit(NewEvent(1, "two", {}, SYSTEM))

        await any_store.write(two)
        with pytest.raises(Refused):
            await any_store.write(insert_then_fail("ghost"))
        await any_store.write(lambda uow: uow.emit(NewEvent(1, "three", {}, SYSTEM)))
        await asyncio.wait_for(got_all.wait(), timeout=10)
        await asyncio.sleep(0.05)
        return heard

    heard = asyncio.run(main())
    assert [(e.seq, e.type) for batch in heard for e in batch] == [(1, "one"), (2, "two"), (3, "three")]


def test_writes_from_many_tasks(any_store: Store) -> None:
    async def main() -> list[int]:
        return list(await asyncio.gather(*(any_store.write(insert(f"t{n}")) for n in range(20))))

    assert sorted(asyncio.run(main())) == list(range(1, 21))
    assert len(_names(any_store)) == 20
