"""Planner observers (renderers that see every conversation's events, whichever dialect opened it) and the
worker's give-up hooks (told, in the transaction that records it, that a delivery failed for good)."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from outbound_kit import DIALECT, Receiver, Reply, World, make_world, quick_settings, render, run_worker_until

from helpline.core.events import NewEvent
from helpline.core.model import SYSTEM, Conversation, Event
from helpline.outbound.guard import OutboundGuard
from helpline.outbound.http import OutboundHttp
from helpline.outbound.model import Delivery, DeliveryState, PlannedDelivery
from helpline.outbound.planner import Planner
from helpline.outbound.render import Renderer
from helpline.outbound.worker import DeliveryWorker, GiveUpHook
from helpline.store.base import Store
from helpline.store.unit_of_work import UnitOfWork


def second_endpoint(world: World, url: str = "https://observer.example.org/in") -> int:
    endpoint = world.store.write_sync(
        lambda uow: uow.endpoints.create(world.account_id, "bot", url, "whsec_o", 1.0)
    )
    return endpoint.id


def observer_to(endpoint_id: int) -> Renderer:
    def observe(uow: UnitOfWork, event: Event, conversation: Conversation) -> list[PlannedDelivery]:
        body = json.dumps({"seen": event.seq, "dialect": conversation.origin_dialect})
        return [PlannedDelivery(endpoint_id=endpoint_id, body=body)]

    return observe


def plan(world: World, planner: Planner) -> int:
    return world.store.write_sync(lambda uow: planner.plan(uow))


def test_observers_see_events_of_every_dialect_after_the_origin_renderer(store: Store) -> None:
    world = make_world(store, "https://hooks.example.org/in")
    observed = second_endpoint(world)
    ours, foreign = world.conversation(), world.conversation("some_other_dialect")
    first, second = world.emit(ours, 1), world.emit(foreign, 2)
    planner = Planner({DIALECT: render}, {"observer": observer_to(observed)})
    assert plan(world, planner) == 2

    found = [(d.event_seq, d.endpoint_id, json.loads(d.body)) for d in world.deliveries()]
    assert found == [
        (first, world.endpoint.id, {"seq": first, "type": "message.created", "n": 1}),
        (first, observed, {"seen": first, "dialect": DIALECT}),
        (second, observed, {"seen": second, "dialect": "some_other_dialect"}),
    ]
    assert [d.webhook_id for d in world.deliveries()] == [
        f"evt_{first}_{world.endpoint.id}",
        f"evt_{first}_{observed}",
        f"evt_{second}_{observed}",
    ]


def test_a_failing_observer_does_not_stop_the_origin_renderer(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    world = make_world(store, "https://hooks.example.org/in")

    def broken(uow: UnitOfWork, event: Event, conversation: Conversation) -> list[PlannedDelivery]:
        raise KeyError("boom")

    planner = Planner({DIALECT: render})
    planner.observe("broken", broken)
    seq = world.emit(world.conversation(), 1)
    with caplog.at_level(logging.ERROR):
        assert plan(world, planner) == 1
    assert [d.event_seq for d in world.deliveries()] == [seq]
    assert f"the broken renderer failed on event {seq}" in caplog.text


def test_an_observer_cannot_plan_for_another_accounts_endpoint(store: Store) -> None:
    world = make_world(store, "https://hooks.example.org/in")
    other = store.write_sync(lambda uow: uow.accounts.create("Other", 1.0))
    theirs = store.write_sync(
        lambda uow: uow.endpoints.create(other.id, "bot", "https://x.example.org", "s", 1.0)
    )
    world.emit(world.conversation(), 1)
    assert plan(world, Planner({}, {"observer": observer_to(theirs.id)})) == 1
    assert world.deliveries() == []


class Recorder:
    """A give-up hook that records what it was told and leaves a trace in the same transaction."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.calls: list[tuple[int, bool, str]] = []

    def __call__(self, uow: UnitOfWork, delivery: Delivery, gone: bool, error: str) -> None:
        self.calls.append((delivery.id, gone, error))
        event = NewEvent(self.world.account_id, "test.gave_up", {"delivery": delivery.id}, SYSTEM)
        uow.emit(event)


def worker_with(store: Store, hooks: list[GiveUpHook]) -> DeliveryWorker:
    settings = quick_settings()
    http = OutboundHttp(OutboundGuard(settings.outbound_allow), settings)
    return DeliveryWorker(
        store, http, Planner({DIALECT: render}), settings, store.clock, idle_seconds=0.02, on_give_up=hooks
    )


def settled(world: World, count: int) -> bool:
    found = world.deliveries()
    return len(found) == count and all(d.state is not DeliveryState.PENDING for d in found)


def traces(world: World) -> list[int]:
    return world.store.read_sync(
        lambda uow: [e.data["delivery"] for e in uow.events.after(0, 1000) if e.type == "test.gave_up"]
    )


@pytest.mark.parametrize(
    ("replies", "gone", "error"),
    [
        ([Reply(500)], False, "answered HTTP 500; gave up after 3 attempts"),
        (
            [Reply(410)],
            True,
            "the endpoint answered 410 Gone: it is disabled and its pending deliveries failed",
        ),
    ],
)
def test_give_up_hooks_hear_of_failures_for_good_only(
    store: Store, replies: list[Reply], gone: bool, error: str
) -> None:
    async def go() -> None:
        async with Receiver(replies) as receiver:
            world = make_world(store, receiver.url())
            world.emit(world.conversation(), 1)
            hook = Recorder(world)
            await run_worker_until(worker_with(store, [hook]), lambda: settled(world, 1))
            [delivery] = world.deliveries()
            assert hook.calls == [(delivery.id, gone, error)]
            assert traces(world) == [delivery.id]  # committed with the delivery's outcome

    asyncio.run(go())


def test_give_up_hooks_are_not_called_on_success_or_while_retrying(store: Store) -> None:
    async def go() -> None:
        async with Receiver([Reply(500), Reply(200)]) as receiver:
            world = make_world(store, receiver.url())
            world.emit(world.conversation(), 1)
            hook = Recorder(world)
            await run_worker_until(worker_with(store, [hook]), lambda: settled(world, 1))
            assert [d.state for d in world.deliveries()] == [DeliveryState.SUCCEEDED]
            assert hook.calls == []
            assert len(receiver.seen) == 2

    asyncio.run(go())
