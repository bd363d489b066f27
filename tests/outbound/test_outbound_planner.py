"""Planning: outbox events become delivery rows once, in one unit of work with the cursor."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Sequence

import pytest
from outbound_kit import DIALECT, World, make_world, render

from helpline.core.admin import create_account, create_department, create_token
from helpline.core.model import Conversation, Department, Event
from helpline.outbound.model import DeliveryState, PlannedDelivery
from helpline.outbound.planner import Planner
from helpline.outbound.repository import Deliveries
from helpline.store.base import Store
from helpline.store.unit_of_work import UnitOfWork


@pytest.fixture
def world(store: Store) -> World:
    return make_world(store, "https://hooks.example.org/in")


def plan(world: World, planner: Planner, batch: int = 500) -> int:
    return world.store.write_sync(lambda uow: planner.plan(uow, batch))


def cursor(world: World) -> int:
    return world.store.read_sync(lambda uow: Deliveries.from_uow(uow).planned_up_to())


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
    def fussy(uow: UnitOfWork, event: Event, conversation: Conversation) -> list[PlannedDelivery]:
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
    def twice(uow: UnitOfWork, event: Event, conversation: Conversation) -> list[PlannedDelivery]:
        return render(uow, event, conversation) * 2

    seq = world.emit(world.conversation(), 1)
    plan(world, Planner({DIALECT: twice}))
    assert [d.webhook_id for d in world.deliveries()] == [
        f"evt_{seq}_{world.endpoint.id}",
        f"evt_{seq}_{world.endpoint.id}_1",
    ]


def test_never_plans_for_another_accounts_endpoint(world: World, store: Store) -> None:
    stranger = make_world(store, "https://stranger.example.org/in")

    def misrouted(uow: UnitOfWork, event: Event, conversation: Conversation) -> list[PlannedDelivery]:
        return [PlannedDelivery(endpoint_id=stranger.endpoint.id, body="{}")]

    world.emit(world.conversation(), 1)
    plan(world, Planner({DIALECT: misrouted}))
    assert world.deliveries() == []


def stored_events(world: World) -> list[Event]:
    found: list[Event] = world.store.read_sync(lambda uow: uow.events.after(0, 1000))
    return found


def held(events: list[Event]) -> list[Event]:
    """The events as the hub would hold them, told apart from the log by their ``n``."""
    return [dataclasses.replace(event, data={"n": 100 + event.data["n"]}) for event in events]


def plan_up_to(world: World, planner: Planner, recent: Sequence[Event], batch: int = 500) -> tuple[int, int]:
    result: tuple[int, int] = world.store.write_sync(lambda uow: planner.plan_up_to(uow, batch, recent))
    return result


def bodies(world: World) -> list[tuple[int, int]]:
    return [(d.event_seq, json.loads(d.body)["n"]) for d in world.deliveries()]


def test_recent_events_that_continue_the_cursor_are_planned_as_held(world: World) -> None:
    """Reading back what the hub already holds is a query per commit; the log is only the fallback."""
    conversation = world.conversation()
    seqs = [world.emit(conversation, n) for n in range(5)]
    recent = held(stored_events(world))
    planner = Planner({DIALECT: render})
    assert plan_up_to(world, planner, recent[:2]) == (2, seqs[1])
    # A run that starts before the cursor still continues it; a batch takes only its first events.
    assert plan_up_to(world, planner, recent, batch=2) == (2, seqs[3])
    assert plan_up_to(world, planner, recent) == (1, seqs[4])
    assert plan_up_to(world, planner, recent) == (0, seqs[4])
    assert bodies(world) == [(seq, 100 + n) for n, seq in enumerate(seqs)]
    assert cursor(world) == seqs[4]


@pytest.mark.parametrize(
    ("planned_first", "pick"),
    [
        pytest.param(0, lambda run: [run[0], run[2], run[3]], id="a-gap"),
        pytest.param(1, lambda run: [run[0], run[1], run[3]], id="a-gap-after-the-cursor"),
        pytest.param(0, lambda run: run[1:], id="starts-past-the-cursor"),
        pytest.param(2, lambda run: run[:2], id="ends-at-the-cursor"),
        pytest.param(3, lambda run: run[:2], id="ends-before-the-cursor"),
    ],
)
def test_recent_events_that_do_not_continue_the_cursor_give_way_to_the_log(
    world: World, planned_first: int, pick: Callable[[list[Event]], list[Event]]
) -> None:
    """Whatever is wrong with the run, the log decides: no event is skipped, none planned twice."""
    conversation = world.conversation()
    seqs = [world.emit(conversation, n) for n in range(5)]
    planner = Planner({DIALECT: render})
    if planned_first:
        assert plan(world, planner, batch=planned_first) == planned_first
    assert plan_up_to(world, planner, pick(held(stored_events(world)))) == (5 - planned_first, seqs[4])
    assert bodies(world) == list(zip(seqs, range(5), strict=True))
    assert cursor(world) == seqs[4]


def test_a_gap_before_the_cursor_gives_way_to_the_log(world: World) -> None:
    """The hub never hands over such a run, but the planner's own check promises the log for it."""
    conversation = world.conversation()
    seqs = [world.emit(conversation, n) for n in range(5)]
    planner = Planner({DIALECT: render})
    assert plan(world, planner, batch=3) == 3
    recent = held(stored_events(world))
    assert plan_up_to(world, planner, [recent[0], recent[4]]) == (2, seqs[4])
    assert bodies(world) == list(zip(seqs, range(5), strict=True))


def endpointless(like: World) -> World:
    """A second account that never had an endpoint; ``World`` wants one, so ``like``'s stays, unused."""

    def work(uow: UnitOfWork) -> World:
        account = create_account(uow, "Initech")
        issued = create_token(uow, account.id, None)
        department = create_department(uow, Department(id=0, account_id=account.id, name="Support"))
        assert issued.endpoint is None
        return dataclasses.replace(
            like, account_id=account.id, department_id=department.id, token_id=issued.token.id
        )

    return like.store.write_sync(work)


@pytest.mark.parametrize("endpoint", ["disabled", "absent"])
def test_accounts_without_an_enabled_endpoint_plan_nothing_and_are_passed(
    world: World, store: Store, endpoint: str
) -> None:
    """Their events cannot yield a delivery, so the planner does not even render them."""
    if endpoint == "disabled":
        other = make_world(store, "https://other.example.org/in")
        store.write_sync(lambda uow: uow.endpoints.disable(other.endpoint.id, "answered 410 Gone"))
    else:
        other = endpointless(world)
    ours, theirs = world.conversation(), other.conversation()
    seqs = [world.emit(ours, 0), other.emit(theirs, 1), world.emit(ours, 2), other.emit(theirs, 3)]
    rendered: list[int] = []
    observed: list[int] = []

    def recording(uow: UnitOfWork, event: Event, conversation: Conversation) -> list[PlannedDelivery]:
        rendered.append(event.seq)
        planned: list[PlannedDelivery] = render(uow, event, conversation)
        return planned

    def watching(uow: UnitOfWork, event: Event, conversation: Conversation) -> list[PlannedDelivery]:
        observed.append(event.seq)
        return []

    planner = Planner({DIALECT: recording}, observers={"bot": watching})
    assert plan(world, planner) == 4
    assert rendered == observed == [seqs[0], seqs[2]]
    assert [(d.event_seq, d.account_id) for d in world.deliveries()] == [
        (seqs[0], world.account_id),
        (seqs[2], world.account_id),
    ]
    assert cursor(world) == seqs[3]
