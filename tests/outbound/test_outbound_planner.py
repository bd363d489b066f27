"""Planning: outbox events become delivery rows once, in one unit of work with the cursor."""

from __future__ import annotations

import json
import logging

import pytest
from outbound_kit import DIALECT, World, make_world, render

from helpline.core.model import Conversation, Event
from helpline.outbound.model import DeliveryState, PlannedDelivery
from helpline.outbound.planner import Planner
from helpline.store.open import AnyStore
from helpline.store.sql import SqlUnitOfWork


@pytest.fixture
def world(store: AnyStore) -> World:
    return make_world(store, "https://hooks.example.org/in")


def plan(world: World, planner: Planner, batch: int = 500) -> int:
    return world.store.write_sync(lambda uow: planner.plan(uow, batch))


def cursor(world: World) -> int:
    return world.store.read_sync(lambda uow: uow.deliveries.planned_up_to())


def test_each_event_becomes_one_delivery_per_endpoint(world: World) -> None:
    conversation = world.conversation()
    seqs = [world.emit(conversation, n) for n in range(3)]
    assert plan(world, Planner({DIALECT: render})) == 3
    found = world.deliveries()
    assert [d.event_seq for d in found] == seqs
    assert [d.webhook_id for d in found] == [f"evt_{seq}_{world.endpoint.id}" for seq in seqs]
    assert all(d.state is DeliveryState.PENDING and d.attempts == 0 for d in found)
    assert all(d.conversation_id == conversation and d.account_id == world.account_id for d in found)
    assert [json.loads(d.body)["n"] for d in found] == [0, 1, 2]
    assert found[0].event_type == "message.created"
    assert cursor(world) == seqs[-1]


def test_planning_again_plans_nothing_twice(world: World) -> None:
    conversation = world.conversation()
    world.emit(conversation, 1)
    planner = Planner({DIALECT: render})
    assert plan(world, planner) == 1
    assert plan(world, planner) == 0
    world.emit(conversation, 2)
    assert plan(world, planner) == 1
    assert len(world.deliveries()) == 2


def test_batches_continue_from_the_cursor(world: World) -> None:
    conversation = world.conversation()
    for n in range(5):
        world.emit(conversation, n)
    planner = Planner({DIALECT: render})
    assert [plan(world, planner, batch=2) for _ in range(4)] == [2, 2, 1, 0]
    assert [json.loads(d.body)["n"] for d in world.deliveries()] == [0, 1, 2, 3, 4]


def test_skips_events_without_conversation_or_renderer(world: World) -> None:
    other = world.conversation(dialect="someone_else")
    world.emit(None, 1, kind="agent.presence")
    world.emit(other, 2)
    last = world.emit(world.conversation(), 3)
    assert plan(world, Planner({DIALECT: render})) == 3
    assert [json.loads(d.body)["n"] for d in world.deliveries()] == [3]
    assert cursor(world) == last


def test_skips_disabled_endpoints(world: World) -> None:
    conversation = world.conversation()
    world.store.write_sync(lambda uow: uow.endpoints.disable(world.endpoint.id, "operator said so"))
    world.emit(conversation, 1)
    assert plan(world, Planner({DIALECT: render})) == 1
    assert world.deliveries() == []


def test_a_failing_renderer_skips_its_event_but_not_the_rest(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    def fussy(uow: SqlUnitOfWork, event: Event, conversation: Conversation) -> list[PlannedDelivery]:
        if event.data["n"] == 1:
            raise KeyError("position")
        return render(uow, event, conversation)

    conversation = world.conversation()
    for n in range(3):
        world.emit(conversation, n)
    with caplog.at_level(logging.ERROR, logger="helpline.outbound.planner"):
        assert plan(world, Planner({DIALECT: fussy})) == 3
    assert [json.loads(d.body)["n"] for d in world.deliveries()] == [0, 2]
    assert "renderer failed" in caplog.text


def test_two_bodies_for_one_endpoint_get_distinct_ids(world: World) -> None:
    def twice(uow: SqlUnitOfWork, event: Event, conversation: Conversation) -> list[PlannedDelivery]:
        return render(uow, event, conversation) * 2

    seq = world.emit(world.conversation(), 1)
    plan(world, Planner({DIALECT: twice}))
    assert [d.webhook_id for d in world.deliveries()] == [
        f"evt_{seq}_{world.endpoint.id}",
        f"evt_{seq}_{world.endpoint.id}_1",
    ]


def test_never_plans_for_another_accounts_endpoint(world: World, store: AnyStore) -> None:
    stranger = make_world(store, "https://stranger.example.org/in")

    def misrouted(uow: SqlUnitOfWork, event: Event, conversation: Conversation) -> list[PlannedDelivery]:
        return [PlannedDelivery(endpoint_id=stranger.endpoint.id, body="{}")]

    world.emit(world.conversation(), 1)
    plan(world, Planner({DIALECT: misrouted}))
    assert world.deliveries() == []
