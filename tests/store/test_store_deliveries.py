"""The delivery log: head-of-line scheduling per (endpoint, conversation), locks, retries, attempts."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from helpline.outbound.model import Attempt, DeliveryState
from helpline.outbound.repository import Deliveries
from helpline.store.base import Store
from helpline.store.unit_of_work import UnitOfWork


@dataclass
class Hooks:
    account_id: int
    other_account_id: int
    first: int
    second: int


@pytest.fixture
def hooks(any_store: Store) -> Hooks:
    def seed(uow: UnitOfWork) -> Hooks:
        acme, other = uow.accounts.create("Acme", 1.0), uow.accounts.create("Other", 1.0)
        first = uow.endpoints.create(acme.id, "webhook", "https://a/1", "whsec_1", 1.0)
        second = uow.endpoints.create(acme.id, "webhook", "https://a/2", "whsec_2", 1.0)
        return Hooks(acme.id, other.id, first.id, second.id)

    return any_store.write_sync(seed)


_serial = iter(range(1, 1_000_000))


def add(store: Store, endpoint_id: int, conversation_id: int | None, now: float, account_id: int = 1) -> int:
    seq = next(_serial)
    return store.write_sync(
        lambda uow: Deliveries.from_uow(uow).add(
            account_id,
            seq,
            endpoint_id,
            conversation_id,
            f"msg_{seq}_{endpoint_id}",
            "message.created",
            '{"a":1}',
            now,
        )
    )


def due(store: Store, now: float, limit: int = 100) -> list[int]:
    return [d.id for d in store.read_sync(lambda uow: Deliveries.from_uow(uow).due(now, limit))]


def test_add_and_get(any_store: Store, hooks: Hooks) -> None:
    delivery_id = any_store.write_sync(
        lambda uow: Deliveries.from_uow(uow).add(
            hooks.account_id, 41, hooks.first, 7, "msg_x", "conversation.accepted", "{}", 5.0
        )
    )
    delivery = any_store.read_sync(lambda uow: Deliveries.from_uow(uow).get(delivery_id))
    assert delivery is not None
    assert (delivery.account_id, delivery.event_seq, delivery.endpoint_id, delivery.conversation_id) == (
        hooks.account_id,
        41,
        hooks.first,
        7,
    )
    assert (delivery.webhook_id, delivery.event_type, delivery.body, delivery.state) == (
        "msg_x",
        "conversation.accepted",
        "{}",
        DeliveryState.PENDING,
    )
    assert (delivery.attempts, delivery.next_attempt_at, delivery.created_at, delivery.finished_at) == (
        0,
        5.0,
        5.0,
        None,
    )
    assert (delivery.last_status, delivery.last_error) == (None, None)
    assert any_store.read_sync(lambda uow: Deliveries.from_uow(uow).get(999_999)) is None


def test_due_gives_only_the_head_of_each_line(any_store: Store, hooks: Hooks) -> None:
    a1 = add(any_store, hooks.first, 1, 10.0)
    a2 = add(any_store, hooks.first, 1, 10.0)
    b1 = add(any_store, hooks.first, 2, 11.0)
    c1 = add(any_store, hooks.second, 1, 12.0)  # same conversation, other endpoint: its own line
    n1 = add(any_store, hooks.first, None, 13.0)  # no conversation: one line per endpoint
    n2 = add(any_store, hooks.first, None, 13.0)
    later = add(any_store, hooks.second, 3, 50.0)

    assert due(any_store, 9.0) == []
    assert due(any_store, 20.0) == [a1, b1, c1, n1]
    assert due(any_store, 50.0) == [a1, b1, c1, n1, later]
    assert due(any_store, 50.0, limit=2) == [a1, b1]

    any_store.write_sync(
        lambda uow: Deliveries.from_uow(uow).finish(a1, DeliveryState.SUCCEEDED, 200, None, 21.0)
    )
    any_store.write_sync(
        lambda uow: Deliveries.from_uow(uow).finish(n1, DeliveryState.FAILED, 410, "gone", 21.0)
    )
    assert due(any_store, 22.0) == [a2, b1, c1, n2]


def test_a_waiting_head_holds_its_line(any_store: Store, hooks: Hooks) -> None:
    head = add(any_store, hooks.first, 1, 10.0)
    behind = add(any_store, hooks.first, 1, 10.0)
    any_store.write_sync(lambda uow: Deliveries.from_uow(uow).retry_later(head, 100.0, 503, "unavailable"))

    assert due(any_store, 50.0) == []
    assert due(any_store, 100.0) == [head]
    assert behind not in due(any_store, 1000.0)


def test_lock_holds_a_delivery_until_it_expires(any_store: Store, hooks: Hooks) -> None:
    delivery = add(any_store, hooks.first, 1, 10.0)
    assert any_store.write_sync(lambda uow: Deliveries.from_uow(uow).lock(delivery, 10.0, 40.0)) is True
    assert any_store.write_sync(lambda uow: Deliveries.from_uow(uow).lock(delivery, 20.0, 50.0)) is False
    assert due(any_store, 20.0) == []
    assert due(any_store, 40.0) == [delivery]
    assert any_store.write_sync(lambda uow: Deliveries.from_uow(uow).lock(delivery, 40.0, 70.0)) is True

    any_store.write_sync(
        lambda uow: Deliveries.from_uow(uow).finish(delivery, DeliveryState.SUCCEEDED, 204, None, 45.0)
    )
    assert any_store.write_sync(lambda uow: Deliveries.from_uow(uow).lock(delivery, 100.0, 130.0)) is False
    assert any_store.write_sync(lambda uow: Deliveries.from_uow(uow).lock(999_999, 100.0, 130.0)) is False


def test_retry_later_and_finish_count_attempts_and_unlock(any_store: Store, hooks: Hooks) -> None:
    delivery = add(any_store, hooks.first, 1, 10.0)
    any_store.write_sync(lambda uow: Deliveries.from_uow(uow).lock(delivery, 10.0, 40.0))
    any_store.write_sync(
        lambda uow: Deliveries.from_uow(uow).retry_later(delivery, 15.0, None, "connect timeout")
    )

    retried = any_store.read_sync(lambda uow: Deliveries.from_uow(uow).get(delivery))
    assert retried is not None
    assert (retried.state, retried.attempts, retried.next_attempt_at) == (DeliveryState.PENDING, 1, 15.0)
    assert (retried.last_status, retried.last_error) == (None, "connect timeout")
    assert due(any_store, 15.0) == [delivery]  # the lock was released

    any_store.write_sync(
        lambda uow: Deliveries.from_uow(uow).finish(delivery, DeliveryState.SUCCEEDED, 200, None, 16.0)
    )
    finished = any_store.read_sync(lambda uow: Deliveries.from_uow(uow).get(delivery))
    assert finished is not None
    assert (
        finished.state,
        finished.attempts,
        finished.finished_at,
        finished.last_status,
        finished.last_error,
    ) == (
        DeliveryState.SUCCEEDED,
        2,
        16.0,
        200,
        None,
    )
    assert due(any_store, 1000.0) == []


def test_requeue_makes_a_finished_delivery_pending_again(any_store: Store, hooks: Hooks) -> None:
    delivery = add(any_store, hooks.first, 1, 10.0)
    any_store.write_sync(
        lambda uow: Deliveries.from_uow(uow).finish(delivery, DeliveryState.FAILED, 500, "boom", 11.0)
    )
    any_store.write_sync(lambda uow: Deliveries.from_uow(uow).requeue(delivery, 30.0))

    requeued = any_store.read_sync(lambda uow: Deliveries.from_uow(uow).get(delivery))
    assert requeued is not None
    assert (requeued.state, requeued.next_attempt_at, requeued.finished_at, requeued.attempts) == (
        DeliveryState.PENDING,
        30.0,
        None,
        1,
    )
    assert due(any_store, 29.0) == []
    assert due(any_store, 30.0) == [delivery]


def test_attempts_are_recorded_in_order(any_store: Store, hooks: Hooks) -> None:
    delivery = add(any_store, hooks.first, 1, 10.0)
    other = add(any_store, hooks.first, 2, 10.0)
    attempts = [
        Attempt(delivery, 10.0, None, 3000.5, "timed out", None),
        Attempt(delivery, 15.0, 500, 12.25, "HTTP 500", "<html>oops ☂</html>"),
        Attempt(delivery, 20.0, 200, 8.0, None, '{"ok":true}'),
    ]
    for attempt in attempts:
        any_store.write_sync(lambda uow, a=attempt: Deliveries.from_uow(uow).record_attempt(a))
    assert any_store.read_sync(lambda uow: Deliveries.from_uow(uow).attempts(delivery)) == attempts
    assert any_store.read_sync(lambda uow: Deliveries.from_uow(uow).attempts(other)) == []


def test_list_filters_by_account_and_state_newest_first(any_store: Store, hooks: Hooks) -> None:
    first = add(any_store, hooks.first, 1, 10.0, account_id=hooks.account_id)
    second = add(any_store, hooks.first, 2, 10.0, account_id=hooks.account_id)
    theirs = add(any_store, hooks.second, 3, 10.0, account_id=hooks.other_account_id)
    any_store.write_sync(
        lambda uow: Deliveries.from_uow(uow).finish(first, DeliveryState.SUCCEEDED, 200, None, 11.0)
    )

    def listed(account_id: int | None, state: DeliveryState | None, limit: int = 50) -> list[int]:
        return [
            d.id
            for d in any_store.read_sync(lambda uow: Deliveries.from_uow(uow).list(account_id, state, limit))
        ]

    assert listed(None, None) == [theirs, second, first]
    assert listed(hooks.account_id, None) == [second, first]
    assert listed(hooks.account_id, DeliveryState.SUCCEEDED) == [first]
    assert listed(None, DeliveryState.PENDING) == [theirs, second]
    assert listed(None, DeliveryState.FAILED) == []
    assert listed(None, None, limit=1) == [theirs]


def test_fail_pending_for_endpoint(any_store: Store, hooks: Hooks) -> None:
    done = add(any_store, hooks.first, 1, 10.0)
    pending = add(any_store, hooks.first, 2, 10.0)
    elsewhere = add(any_store, hooks.second, 2, 10.0)
    any_store.write_sync(
        lambda uow: Deliveries.from_uow(uow).finish(done, DeliveryState.SUCCEEDED, 200, None, 11.0)
    )

    any_store.write_sync(
        lambda uow: Deliveries.from_uow(uow).fail_pending_for_endpoint(hooks.first, "endpoint disabled", 12.0)
    )

    failed = any_store.read_sync(lambda uow: Deliveries.from_uow(uow).get(pending))
    assert failed is not None
    assert (failed.state, failed.last_error, failed.finished_at) == (
        DeliveryState.FAILED,
        "endpoint disabled",
        12.0,
    )
    untouched = any_store.read_sync(lambda uow: Deliveries.from_uow(uow).get(done))
    assert untouched is not None
    assert untouched.state is DeliveryState.SUCCEEDED
    assert due(any_store, 100.0) == [elsewhere]


def test_planning_cursor(any_store: Store) -> None:
    assert any_store.read_sync(lambda uow: Deliveries.from_uow(uow).planned_up_to()) == 0
    assert any_store.write_sync(lambda uow: Deliveries.from_uow(uow).claim_planning()) == 0
    any_store.write_sync(lambda uow: Deliveries.from_uow(uow).set_planned_up_to(17))
    assert any_store.write_sync(lambda uow: Deliveries.from_uow(uow).claim_planning()) == 17
    assert any_store.read_sync(lambda uow: Deliveries.from_uow(uow).planned_up_to()) == 17
    assert any_store.read_sync(lambda uow: uow.events.last_seq()) == 0


def test_webhook_id_is_unique(any_store: Store, hooks: Hooks) -> None:
    def twice(uow: UnitOfWork) -> None:
        Deliveries.from_uow(uow).add(hooks.account_id, 1, hooks.first, 1, "msg_same", "t", "{}", 1.0)
        Deliveries.from_uow(uow).add(hooks.account_id, 2, hooks.first, 1, "msg_same", "t", "{}", 1.0)

    with pytest.raises(Exception, match=r"(?i)unique"):
        any_store.write_sync(twice)
    assert any_store.read_sync(lambda uow: Deliveries.from_uow(uow).list(None, None, 10)) == []
