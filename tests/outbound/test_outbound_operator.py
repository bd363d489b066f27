"""Operators list the delivery log and replay deliveries."""

from __future__ import annotations

import asyncio
import json

import pytest
from outbound_kit import Receiver, Reply, World, make_worker, make_world, run_worker_until

from helpline.core.errors import Invalid, NotFound
from helpline.outbound import operator
from helpline.outbound.model import DeliveryState
from helpline.store.base import Store


def settled(world: World) -> bool:
    found = world.deliveries()
    return bool(found) and all(d.state is not DeliveryState.PENDING for d in found)


def test_list_shows_deliveries_with_their_attempts(store: Store) -> None:
    async def go() -> World:
        async with Receiver([Reply(500, b"oops"), Reply(200, b"thanks")]) as receiver:
            world = make_world(store, receiver.url())
            world.emit(world.conversation(), 1)
            await run_worker_until(make_worker(store), lambda: settled(world))
            return world

    world = asyncio.run(go())
    [listed] = operator.list_deliveries(store, None, None, 10)
    json.dumps(listed)  # plain JSON
    delivery = world.deliveries()[0]
    assert listed["id"] == delivery.id
    assert listed["event_seq"] == delivery.event_seq
    assert listed["event_type"] == "message.created"
    assert listed["webhook_id"] == delivery.webhook_id
    assert listed["endpoint_url"] == world.endpoint.url
    assert listed["state"] == "succeeded"
    assert listed["attempts"] == 2
    assert listed["last_status"] == 200
    assert listed["last_error"] is None
    assert listed["created_at"] > 0
    assert listed["next_attempt_at"] is None
    details = listed["attempts_detail"]
    assert [(a["status"], a["error"], a["response_excerpt"]) for a in details] == [
        (500, "answered HTTP 500", "oops"),
        (200, None, "thanks"),
    ]


def test_list_filters_by_account_and_state(store: Store) -> None:
    first = make_world(store, "https://one.example.org/h")
    second = make_world(store, "https://two.example.org/h")
    first.emit(first.conversation(), 1)
    second.emit(second.conversation(), 2)
    asyncio.run(make_worker(store).plan())
    assert [d["endpoint_url"] for d in operator.list_deliveries(store, first.account_id, None, 10)] == [
        "https://one.example.org/h"
    ]
    assert len(operator.list_deliveries(store, None, "pending", 10)) == 2
    assert operator.list_deliveries(store, None, DeliveryState.FAILED, 10) == []
    with pytest.raises(Invalid) as invalid:
        operator.list_deliveries(store, None, "lost", 10)
    assert "pending, succeeded, failed" in invalid.value.message


def test_replay_sends_again_with_the_same_webhook_id(store: Store) -> None:
    async def go() -> None:
        async with Receiver() as receiver:
            world = make_world(store, receiver.url())
            world.emit(world.conversation(), 1)
            await run_worker_until(make_worker(store), lambda: settled(world))
            delivery = world.deliveries()[0]
            replayed = await operator.replay_async(store, delivery.id)
            assert replayed["state"] == "pending"
            await run_worker_until(make_worker(store), lambda: len(receiver.seen) == 2 and settled(world))
        first, second = receiver.seen
        assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.webhook_id
        assert first.body == second.body
        again = world.delivery(delivery.id)
        assert again.state is DeliveryState.SUCCEEDED
        assert again.attempts == 2

    asyncio.run(go())


def test_replay_revives_a_failed_delivery(store: Store) -> None:
    async def go() -> None:
        async with Receiver([Reply(500), Reply(500), Reply(500), Reply(200)]) as receiver:
            world = make_world(store, receiver.url())
            world.emit(world.conversation(), 1)
            await run_worker_until(make_worker(store), lambda: settled(world))
            delivery = world.deliveries()[0]
            assert delivery.state is DeliveryState.FAILED
            operator.replay(store, delivery.id)
            await run_worker_until(make_worker(store), lambda: settled(world))
        assert world.delivery(delivery.id).state is DeliveryState.SUCCEEDED
        assert len(receiver.seen) == 4

    asyncio.run(go())


def test_replay_of_an_unknown_or_foreign_delivery_is_not_found(store: Store) -> None:
    world = make_world(store, "https://one.example.org/h")
    world.emit(world.conversation(), 1)
    asyncio.run(make_worker(store).plan())
    delivery = world.deliveries()[0]
    with pytest.raises(NotFound):
        operator.replay(store, 999)
    with pytest.raises(NotFound):
        operator.replay(store, delivery.id, account_id=world.account_id + 1)
