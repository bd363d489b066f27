"""When a conversation leaves the queue, the ones behind it learn their new positions."""

from __future__ import annotations

import pytest
from core_fakes import World

from helpline.core import agents, conversations, routing
from helpline.core import events as ev
from helpline.core.model import Actor, ActorType, Conversation, ConversationState, FinishReason


def _moves(world: World, after: int) -> list[tuple[int | None, int]]:
    return [
        (e.conversation_id, e.data["position"])
        for e in world.store.events_after(after)
        if e.type == ev.QUEUE_POSITION_CHANGED
    ]


def _queue(world: World, department_id: int) -> list[int]:
    return [c.id for c in world.store.read(lambda uow: uow.conversations.queued_in_department(department_id))]


@pytest.fixture
def line(world: World) -> tuple[World, list[Conversation]]:
    support = world.department()
    world.agent("Alice", [support])
    world.agent("Bob", [support])
    return world, [world.start(support) for _ in range(4)]


def test_accepting_the_head_moves_everyone_up(line: tuple[World, list[Conversation]]) -> None:
    world, (a, b, c, d) = line
    alice = world.store.agent(1)
    before = world.store.events[-1].seq

    world.run(agents.accept, alice, a)

    assert _moves(world, before) == [(b.id, 1), (c.id, 2), (d.id, 3)]
    assert _queue(world, a.department_id) == [b.id, c.id, d.id]
    moved = [e for e in world.store.events_after(before) if e.type == ev.QUEUE_POSITION_CHANGED]
    assert {e.actor for e in moved} == {Actor(ActorType.AGENT, alice.id)}
    assert {e.data["department_id"] for e in moved} == {a.department_id}
    assert {e.department_id for e in moved} == {a.department_id}


def test_accepting_from_the_middle_moves_only_those_behind(line: tuple[World, list[Conversation]]) -> None:
    world, (a, b, c, d) = line
    before = world.store.events[-1].seq

    world.run(agents.accept, world.store.agent(1), c)

    assert _moves(world, before) == [(d.id, 3)]
    assert _queue(world, a.department_id) == [a.id, b.id, d.id]


def test_accepting_the_last_moves_nobody(line: tuple[World, list[Conversation]]) -> None:
    world, (_a, _b, _c, d) = line
    before = world.store.events[-1].seq
    world.run(agents.accept, world.store.agent(1), d)
    assert _moves(world, before) == []


def test_contact_finishing_while_queued_moves_those_behind(line: tuple[World, list[Conversation]]) -> None:
    world, (_a, b, c, d) = line
    before = world.store.events[-1].seq

    world.run(conversations.contact_finish, b)

    assert _moves(world, before) == [(c.id, 2), (d.id, 3)]
    after = world.store.events_after(before)
    assert next(e.type for e in after) == ev.CONVERSATION_FINISHED
    assert {e.actor for e in after} == {Actor(ActorType.CONTACT, None)}
    assert world.conversation(b).finish_reason is FinishReason.RESOLVED


def test_agent_finishing_a_queued_conversation_moves_those_behind(
    line: tuple[World, list[Conversation]],
) -> None:
    world, (a, b, c, d) = line
    bob = world.store.agent(2)
    before = world.store.events[-1].seq

    world.run(agents.finish, bob, a)

    assert _moves(world, before) == [(b.id, 1), (c.id, 2), (d.id, 3)]
    assert {e.actor for e in world.store.events_after(before)} == {Actor(ActorType.AGENT, bob.id)}


def test_finishing_an_assigned_conversation_moves_nobody(line: tuple[World, list[Conversation]]) -> None:
    world, (a, _b, _c, _d) = line
    alice = world.store.agent(1)
    world.run(agents.accept, alice, a)
    before = world.store.events[-1].seq

    world.run(agents.finish, alice, a)

    assert [e.type for e in world.store.events_after(before)] == [ev.CONVERSATION_FINISHED]


def test_transfer_to_an_agent_moves_those_behind(line: tuple[World, list[Conversation]]) -> None:
    world, (a, b, c, d) = line
    alice, bob = world.store.agent(1), world.store.agent(2)
    before = world.store.events[-1].seq

    world.run(lambda uow, me, conv: agents.transfer(uow, me, conv, agent_id=bob.id), alice, b)

    assert _moves(world, before) == [(c.id, 2), (d.id, 3)]
    assert _queue(world, a.department_id) == [a.id, c.id, d.id]


def test_transfer_to_a_department_moves_those_behind_in_the_old_queue(
    line: tuple[World, list[Conversation]],
) -> None:
    world, (a, b, c, d) = line
    sales = world.department("Sales")
    alice = world.store.agent(1)
    before = world.store.events[-1].seq

    world.run(lambda uow, me, conv: agents.transfer(uow, me, conv, department_id=sales.id), alice, b)

    assert _queue(world, a.department_id) == [a.id, c.id, d.id]
    assert _moves(world, before) == [(c.id, 2), (d.id, 3)]


def test_expiry_moves_those_behind(world: World) -> None:
    support = world.department(queued_max_time=60)
    a = world.start(support)
    world.store.advance(30)
    b = world.start(support)
    c = world.start(support)
    world.store.advance(30)
    before = world.store.events[-1].seq

    assert world.store.write(routing.expire_waiting) == 1

    assert world.conversation(a).state is ConversationState.FINISHED
    assert _moves(world, before) == [(b.id, 1), (c.id, 2)]
