"""PostgreSQL's group commit: a process's queued units of work share one transaction, each under its own
savepoint; the events' numbers stay gap-free in commit order across processes (two stores on one schema)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from store_backends import _reset

from helpline.core.events import NewEvent
from helpline.core.model import SYSTEM
from helpline.store import postgres
from helpline.store.postgres import PostgresStore
from helpline.store.unit_of_work import UnitOfWork


class Refused(Exception):
    pass


def _emit(name: str, fail: bool = False, bad_sql: bool = False) -> Any:
    def work(uow: UnitOfWork) -> int:
        seq = uow.emit(NewEvent(1, name, {}, SYSTEM)).seq
        uow.emit(NewEvent(1, name + ".2", {}, SYSTEM))
        if bad_sql:
            uow.db.execute("INSERT INTO no_such_table VALUES (1)")
        if fail:
            raise Refused(name)
        return seq

    return work


@pytest.fixture
def pg_store(postgres_module_url: Any) -> Iterator[PostgresStore]:
    """PostgreSQL only: the writer is its own (SQLite's has tests of its own)."""
    _reset(postgres_module_url.url, postgres_module_url.baseline)
    store = PostgresStore(postgres_module_url.url)
    try:
        yield store
    finally:
        store.close_sync()


def _hold(store: PostgresStore) -> tuple[Future[Any], threading.Event]:
    """Keep the writer busy in a unit of work until released, so that the next units queue up."""
    holding, release = threading.Event(), threading.Event()

    def hold(uow: UnitOfWork) -> None:
        holding.set()
        release.wait(timeout=10)

    pool = ThreadPoolExecutor(1)
    held = pool.submit(store.write_sync, hold)
    pool.shutdown(wait=False)
    assert holding.wait(timeout=10)
    return held, release


def _count_groups(store: PostgresStore, monkeypatch: pytest.MonkeyPatch, runner: str) -> list[int]:
    """The sizes of the groups the store's ``runner`` (pipelined or careful) is given, as they come."""
    sizes: list[int] = []
    run = getattr(store, runner)

    def counting(conn: Any, batch: Any) -> Any:
        sizes.append(len(batch))
        return run(conn, batch)

    monkeypatch.setattr(store, runner, counting)
    return sizes


def test_a_group_commits_once_and_a_failing_unit_undoes_only_itself(
    pg_store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches = _count_groups(pg_store, monkeypatch, "_run_pipelined")
    held, release = _hold(pg_store)
    pool = ThreadPoolExecutor(8)
    jobs = {
        "a": _emit("a"),
        "bad": _emit("bad", fail=True),
        "b": _emit("b"),
        "sql": _emit("sql", bad_sql=True),
    }
    jobs["c"] = _emit("c")
    futures = {}
    for name, work in jobs.items():  # queued in this order
        futures[name] = pool.submit(pg_store.write_sync, work)
        while pg_store._jobs.qsize() < len(futures):
            threading.Event().wait(0.001)
    release.set()
    held.result(timeout=10)
    assert [futures[n].result(timeout=10) for n in ("a", "b", "c")] == [1, 3, 5]
    with pytest.raises(Refused):
        futures["bad"].result(timeout=10)
    with pytest.raises(psycopg.errors.UndefinedTable):
        futures["sql"].result(timeout=10)
    pool.shutdown()
    assert batches[-1] == 5
    logged = pg_store.read_sync(lambda uow: [(e.seq, e.type) for e in uow.events.after(0, 100)])
    assert logged == [(1, "a"), (2, "a.2"), (3, "b"), (4, "b.2"), (5, "c"), (6, "c.2")]
    assert pg_store.read_sync(lambda uow: uow.events.last_seq()) == 6


def test_the_group_that_takes_the_first_number_in_a_failing_unit_reads_the_counter_again(
    pg_store: PostgresStore,
) -> None:
    """The counter row's lock is taken by the first event of a group; when that unit rolls back to its
    savepoint the lock goes with it, so the next unit must lock and read the row afresh."""
    other = PostgresStore(pg_store.url)
    try:
        held, release = _hold(pg_store)
        pool = ThreadPoolExecutor(4)
        bad = pool.submit(pg_store.write_sync, _emit("bad", fail=True))
        while pg_store._jobs.qsize() < 1:
            threading.Event().wait(0.001)
        later = pool.submit(pg_store.write_sync, _emit("later"))
        while pg_store._jobs.qsize() < 2:
            threading.Event().wait(0.001)
        # Meanwhile another process commits numbers 1 and 2.
        assert other.write_sync(_emit("elsewhere")) == 1
        release.set()
        held.result(timeout=10)
        with pytest.raises(Refused):
            bad.result(timeout=10)
        assert later.result(timeout=10) == 3
        pool.shutdown()
    finally:
        other.close_sync()
    logged = pg_store.read_sync(lambda uow: [e.type for e in uow.events.after(0, 100)])
    assert logged == ["elsewhere", "elsewhere.2", "later", "later.2"]


def test_two_processes_writing_at_once_keep_the_log_gap_free_in_commit_order(pg_store: PostgresStore) -> None:
    other = PostgresStore(pg_store.url)
    seen: list[int] = []
    lock = threading.Lock()

    def write(store: PostgresStore, name: str) -> None:
        for index in range(30):
            seq = store.write_sync(_emit(f"{name}{index}"))
            with lock:
                seen.append(seq)

    try:
        threads = [
            threading.Thread(target=write, args=(s, f"{n}-{i}-"))
            for n, s in (("p", pg_store), ("q", other))
            for i in range(3)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        other.close_sync()
    logged = pg_store.read_sync(lambda uow: [e.seq for e in uow.events.after(0, 1000)])
    assert logged == list(range(1, 361))
    assert sorted(seen) == list(range(1, 361, 2))
    assert pg_store.read_sync(lambda uow: uow.events.last_seq()) == 360


def test_a_unit_that_loses_a_deadlock_runs_again(
    pg_store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    tries: list[int] = []

    def flaky(uow: UnitOfWork) -> int:
        tries.append(1)
        seq = uow.emit(NewEvent(1, "flaky", {}, SYSTEM)).seq
        if len(tries) < 3:
            raise psycopg.errors.DeadlockDetected("lost")
        return seq

    assert pg_store.write_sync(flaky) == 1
    assert len(tries) == 3
    monkeypatch.setattr(postgres, "RETRIES", 2)
    tries.clear()
    with pytest.raises(psycopg.errors.DeadlockDetected):
        pg_store.write_sync(flaky)


def test_a_group_with_no_refusal_commits_pipelined_and_reads_rowcounts(
    pg_store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a statement the database refuses sends a group down the careful path; meanwhile a unit that
    asks how many rows its UPDATE touched gets the answer although the statement was pipelined."""
    careful = _count_groups(pg_store, monkeypatch, "_run_batch")

    def touch(uow: UnitOfWork) -> int:
        uow.emit(NewEvent(1, "touch", {}, SYSTEM))
        return int(uow.db.execute("UPDATE counters SET value = value WHERE name = 'events'").rowcount)

    held, release = _hold(pg_store)
    pool = ThreadPoolExecutor(4)
    futures = []
    for _ in range(4):
        futures.append(pool.submit(pg_store.write_sync, touch))
        while pg_store._jobs.qsize() < len(futures):
            threading.Event().wait(0.001)
    release.set()
    held.result(timeout=10)
    assert [f.result(timeout=10) for f in futures] == [1, 1, 1, 1]
    pool.shutdown()
    assert careful == []
    assert pg_store.read_sync(lambda uow: uow.events.last_seq()) == 4


def test_rows_held_back_are_written_before_a_statement_reads_their_table_and_survive_its_units_failure(
    pg_store: PostgresStore,
) -> None:
    """An event's row is held until a statement names its table; when the unit whose statement sent them
    fails, its rollback takes them back, so they are held again and still committed with their units."""
    seen: list[int] = []

    def count_then_fail(uow: UnitOfWork) -> None:
        uow.emit(NewEvent(1, "mine", {}, SYSTEM))
        row = uow.db.execute("SELECT COUNT(*) AS n FROM events").fetchone()
        seen.append(int(row["n"]))
        raise Refused("after reading")

    held, release = _hold(pg_store)
    pool = ThreadPoolExecutor(4)
    futures = []
    for work in (_emit("a"), count_then_fail, _emit("c")):
        futures.append(pool.submit(pg_store.write_sync, work))
        while pg_store._jobs.qsize() < len(futures):
            threading.Event().wait(0.001)
    release.set()
    held.result(timeout=10)
    assert futures[0].result(timeout=10) == 1
    with pytest.raises(Refused):
        futures[1].result(timeout=10)
    assert futures[2].result(timeout=10) == 3
    pool.shutdown()
    assert seen == [3]  # a's two events and its own, written for the count
    logged = pg_store.read_sync(lambda uow: [(e.seq, e.type) for e in uow.events.after(0, 100)])
    assert logged == [(1, "a"), (2, "a.2"), (3, "c"), (4, "c.2")]
