"""The outbox: one global, gap-free sequence in commit order, readable after any point."""

from __future__ import annotations

import threading

import pytest

from helpline.core.events import NewEvent
from helpline.core.model import SYSTEM, Actor, ActorType, Event
from helpline.store.base import Store
from helpline.store.unit_of_work import UnitOfWork


def _event(account_id: int, kind: str = "test.event") -> NewEvent:
    return NewEvent(account_id=account_id, type=kind, data={"n": kind}, actor=SYSTEM)


def test_append_returns_stored_event_and_after_reads_it_back(any_store: Store) -> None:
    new = NewEvent(
        account_id=7,
        type="conversation.transferred",
        data={"from": 1, "to": {"nested": ["☂", None, 1.5, True]}},
        actor=Actor(ActorType.AGENT, 42),
        conversation_id=3,
        department_id=4,
        agent_id=5,
        prev_department_id=6,
        prev_agent_id=8,
    )
    stored = any_store.write_sync(lambda uow: uow.events.append(new, 123.5))

    assert stored == Event(
        seq=1,
        account_id=7,
        type="conversation.transferred",
        data={"from": 1, "to": {"nested": ["☂", None, 1.5, True]}},
        actor=Actor(ActorType.AGENT, 42),
        created_at=123.5,
        conversation_id=3,
        department_id=4,
        agent_id=5,
        prev_department_id=6,
        prev_agent_id=8,
    )
    assert any_store.read_sync(lambda uow: uow.events.after(0, 10)) == [stored]
    assert any_store.read_sync(lambda uow: uow.events.last_seq()) == 1
    assert any_store.read_sync(lambda uow: uow.events.first_seq()) == 1


def test_emit_records_the_event_on_the_unit_of_work(any_store: Store) -> None:
    def work(uow: UnitOfWork) -> tuple[list[Event], Event, Event]:
        first = uow.emit(_event(1, "a"))
        second = uow.emit(_event(1, "b"))
        return uow.recorded, first, second

    recorded, first, second = any_store.write_sync(work)
    assert recorded == [first, second]
    assert [(e.seq, e.type) for e in recorded] == [(1, "a"), (2, "b")]


def test_after_pages_and_filters_by_account(any_store: Store) -> None:
    def work(uow: UnitOfWork) -> None:
        for index in range(10):
            uow.emit(_event(1 if index % 3 else 2, f"e{index}"))

    any_store.write_sync(work)

    def after(seq: int, limit: int, account_id: int | None = None) -> list[int]:
        return [e.seq for e in any_store.read_sync(lambda uow: uow.events.after(seq, limit, account_id))]

    assert after(0, 100) == list(range(1, 11))
    assert after(4, 3) == [5, 6, 7]
    assert after(10, 5) == []
    assert after(0, 100, account_id=2) == [1, 4, 7, 10]
    assert after(4, 100, account_id=2) == [7, 10]
    assert after(0, 2, account_id=1) == [2, 3]
    assert after(0, 100, account_id=3) == []
    assert any_store.read_sync(lambda uow: uow.events.last_seq()) == 10


def test_empty_log(any_store: Store) -> None:
    assert any_store.read_sync(
        lambda uow: (uow.events.last_seq(), uow.events.first_seq(), uow.events.after(0, 5))
    ) == (
        0,
        0,
        [],
    )


def test_sequence_stays_gap_free_under_concurrent_writers(any_store: Store) -> None:
    threads_count, writes_each = 8, 25
    returned: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(threads_count)

    def writer(worker: int) -> None:
        try:
            start.wait(timeout=10)
            for index in range(writes_each):
                stored = any_store.write_sync(
                    lambda uow, i=index: uow.emit(_event(worker + 1, f"w{worker}-{i}"))
                )
                with lock:
                    returned.append(stored.seq)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    total = threads_count * writes_each
    assert sorted(returned) == list(range(1, total + 1))
    stored = any_store.read_sync(lambda uow: uow.events.after(0, total + 10))
    assert [e.seq for e in stored] == list(range(1, total + 1))
    for worker in range(threads_count):  # each writer's events are in its own order
        mine = [e.type for e in stored if e.account_id == worker + 1]
        assert mine == [f"w{worker}-{i}" for i in range(writes_each)]
    assert any_store.read_sync(lambda uow: uow.events.last_seq()) == total


def test_failed_units_of_work_leave_no_gap(any_store: Store) -> None:
    any_store.write_sync(lambda uow: uow.emit(_event(1, "kept-1")))

    def emit_then_fail(uow: UnitOfWork) -> None:
        uow.emit(_event(1, "lost"))
        raise ValueError("refused")

    for _ in range(3):
        with pytest.raises(ValueError, match="refused"):
            any_store.write_sync(emit_then_fail)
    kept = any_store.write_sync(lambda uow: uow.emit(_event(1, "kept-2")))
    assert kept.seq == 2
    assert [e.type for e in any_store.read_sync(lambda uow: uow.events.after(0, 10))] == ["kept-1", "kept-2"]
