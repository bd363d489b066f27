"""Claiming deliveries in one statement: line heads only, one lease per line, the attempt as fencing token;
and, on PostgreSQL, several connections racing for the same deliveries (each claimed once, in line order)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import defaultdict

import psycopg
import pytest

from helpline.outbound.model import Delivery, DeliveryState
from helpline.outbound.repository import Deliveries
from helpline.store.base import Store
from helpline.store.postgres import PostgresStore
from helpline.store.unit_of_work import UnitOfWork

_serial = iter(range(1, 1_000_000))


def endpoints(store: Store) -> tuple[int, int]:
    def seed(uow: UnitOfWork) -> tuple[int, int]:
        acme = uow.accounts.create("Acme", 1.0)
        first = uow.endpoints.create(acme.id, "webhook", "https://a/1", "whsec_1", 1.0)
        second = uow.endpoints.create(acme.id, "webhook", "https://a/2", "whsec_2", 1.0)
        return first.id, second.id

    return store.write_sync(seed)


def add(store: Store, endpoint_id: int, conversation_id: int | None, now: float) -> int:
    seq = next(_serial)
    return store.write_sync(
        lambda uow: Deliveries.from_uow(uow).add(
            1, seq, endpoint_id, conversation_id, f"msg_{seq}", "message.created", "{}", now
        )
    )


def claim(store: Store, now: float, until: float, limit: int = 100) -> list[Delivery]:
    found: list[Delivery] = store.write_sync(lambda uow: Deliveries.from_uow(uow).claim(now, until, limit))
    return found


def settle(
    store: Store, delivery: Delivery, now: float, state: DeliveryState = DeliveryState.SUCCEEDED
) -> bool:
    settled: bool = store.write_sync(
        lambda uow: Deliveries.from_uow(uow).settle(
            delivery.id,
            delivery.attempts,
            now,
            state,
            200,
            None,
            now + 5 if state.value == "pending" else None,
        )
    )
    return settled


def test_a_claim_takes_each_due_line_head_once_and_counts_the_attempt(any_store: Store) -> None:
    first, second = endpoints(any_store)
    head = add(any_store, first, 1, 10.0)
    behind = add(any_store, first, 1, 10.0)
    other_line = add(any_store, second, 1, 10.0)
    no_conversation = add(any_store, first, None, 10.0)
    later = add(any_store, first, 2, 50.0)

    taken = claim(any_store, 20.0, 100.0)
    assert sorted(d.id for d in taken) == sorted([head, other_line, no_conversation])
    assert all(d.attempts == 1 for d in taken)
    assert claim(any_store, 21.0, 101.0) == []  # held: nothing else of those lines, `later` not due
    assert [d.id for d in claim(any_store, 50.0, 100.0)] == [later]

    [held] = [d for d in taken if d.id == head]
    assert settle(any_store, held, 60.0)
    assert [d.id for d in claim(any_store, 60.0, 100.0)] == [behind]


def test_the_limit_takes_the_earliest_due(any_store: Store) -> None:
    first, _ = endpoints(any_store)
    ids = [add(any_store, first, n, 10.0 + n) for n in range(1, 6)]
    assert [d.id for d in claim(any_store, 100.0, 130.0, limit=2)] == ids[:2]
    assert [d.id for d in claim(any_store, 100.0, 130.0, limit=10)] == ids[2:]


def test_a_worker_whose_lease_ran_out_records_nothing(any_store: Store) -> None:
    first, _ = endpoints(any_store)
    delivery_id = add(any_store, first, 1, 10.0)
    [stale] = claim(any_store, 10.0, 20.0)
    [fresh] = claim(any_store, 25.0, 35.0)  # the lease ran out: another worker took it
    assert (stale.id, stale.attempts, fresh.attempts) == (delivery_id, 1, 2)

    assert settle(any_store, stale, 26.0) is False
    assert (
        any_store.read_sync(lambda uow: Deliveries.from_uow(uow).get(delivery_id)).state
        is DeliveryState.PENDING
    )
    assert settle(any_store, fresh, 27.0) is True
    assert (
        any_store.read_sync(lambda uow: Deliveries.from_uow(uow).get(delivery_id)).state
        is DeliveryState.SUCCEEDED
    )


def test_an_outcome_after_the_lease_ran_out_is_refused_even_when_nobody_took_it_yet(any_store: Store) -> None:
    first, _ = endpoints(any_store)
    add(any_store, first, 1, 10.0)
    [taken] = claim(any_store, 10.0, 20.0)
    assert settle(any_store, taken, 21.0) is False
    [again] = claim(any_store, 22.0, 32.0)
    assert again.attempts == 2


def test_a_retry_waits_for_its_time(any_store: Store) -> None:
    first, _ = endpoints(any_store)
    add(any_store, first, 1, 10.0)
    [taken] = claim(any_store, 10.0, 40.0)
    assert settle(any_store, taken, 11.0, DeliveryState.PENDING)  # again at 16.0
    assert claim(any_store, 15.9, 40.0) == []
    assert [d.attempts for d in claim(any_store, 16.0, 40.0)] == [2]


def test_a_replayed_older_delivery_waits_for_the_one_in_flight(any_store: Store) -> None:
    first, _ = endpoints(any_store)
    older = add(any_store, first, 1, 10.0)
    [taken] = claim(any_store, 10.0, 20.0)
    assert settle(any_store, taken, 11.0, DeliveryState.FAILED)
    newer = add(any_store, first, 1, 12.0)
    assert [d.id for d in claim(any_store, 12.0, 30.0)] == [newer]
    assert any_store.write_sync(lambda uow: Deliveries.from_uow(uow).requeue(older, 13.0))

    assert claim(any_store, 14.0, 30.0) == []  # `newer` is in flight: the line has one at a time
    # `newer`'s worker died: its lease runs out, and the line's head (the replayed one) goes, alone.
    assert [d.id for d in claim(any_store, 31.0, 60.0)] == [older]


def test_the_database_refuses_a_second_lease_in_one_line(any_store: Store) -> None:
    first, _ = endpoints(any_store)
    add(any_store, first, 1, 10.0)
    behind = add(any_store, first, 1, 10.0)
    claim(any_store, 10.0, 40.0)
    with pytest.raises((sqlite3.IntegrityError, psycopg.errors.UniqueViolation)):
        any_store.write_sync(lambda uow: Deliveries.from_uow(uow).lock(behind, 10.0, 40.0))


def test_racing_claimers_take_each_delivery_once_in_line_order_never_two_of_a_line(any_store: Store) -> None:
    """Four threads (on PostgreSQL, four connections) claim and settle 30 lines of 4 deliveries."""
    first, second = endpoints(any_store)
    expected: dict[tuple[int, int], list[int]] = defaultdict(list)
    for _round in range(4):
        for line in range(15):
            for endpoint_id in (first, second):
                expected[(endpoint_id, line)].append(add(any_store, endpoint_id, line, 1.0))
    lock = threading.Lock()
    in_flight: set[tuple[int, int | None]] = set()
    sent: dict[tuple[int, int | None], list[int]] = defaultdict(list)
    problems: list[str] = []

    def work() -> None:
        now = 100.0
        for _ in range(400):
            taken = claim(any_store, now, now + 1000.0, limit=3)
            with lock:
                for delivery in taken:
                    line = (delivery.endpoint_id, delivery.conversation_id)
                    if line in in_flight:
                        problems.append(f"two of line {line} in flight")
                    in_flight.add(line)
                    sent[line].append(delivery.id)
            for delivery in taken:
                with lock:
                    in_flight.discard((delivery.endpoint_id, delivery.conversation_id))
                if not settle(any_store, delivery, now):
                    problems.append(f"{delivery.id} could not be settled")
            with lock:
                if sum(len(v) for v in sent.values()) == 120:
                    return

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert problems == []
    assert dict(sent) == dict(expected)


def test_a_planner_skips_while_another_holds_the_cursor(any_store: Store) -> None:
    """On PostgreSQL another process's planner gets None at once (it does not wait); SQLite's one writer makes
    the second wait its turn, and then it holds the cursor."""
    holding, release = threading.Event(), threading.Event()

    def first(uow: UnitOfWork) -> int | None:
        cursor = Deliveries.from_uow(uow).claim_planning()
        holding.set()
        release.wait(10)
        return cursor

    thread = threading.Thread(target=any_store.write_sync, args=(first,))
    thread.start()
    assert holding.wait(10)
    if any_store.url.startswith("sqlite:"):
        release.set()
        assert any_store.write_sync(lambda uow: Deliveries.from_uow(uow).claim_planning()) == 0
    else:
        # Another process's store: a process's own writer runs its units one after the other.
        other = PostgresStore(any_store.url)
        try:
            started = time.monotonic()
            assert other.write_sync(lambda uow: Deliveries.from_uow(uow).claim_planning()) is None
            assert time.monotonic() - started < 1.0
            release.set()
            thread.join(10)
            assert other.write_sync(lambda uow: Deliveries.from_uow(uow).claim_planning()) == 0
        finally:
            release.set()
            other.close_sync()
    thread.join(10)
