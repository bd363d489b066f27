"""Routing: offers to the least busy agent, expiry of waits and rings, presence bringing offers."""

from __future__ import annotations

import pytest
from core_fakes import World

from helpline.core import agents, routing
from helpline.core import events as ev
from helpline.core.model import (
    SYSTEM,
    Actor,
    ActorType,
    Agent,
    ConversationState,
    Department,
    FinishReason,
    Presence,
)


def _assign(world: World, agent: Agent, department: Department, count: int) -> None:
    for _ in range(count):
        world.run(agents.accept, agent, world.start(department))


def _offer(world: World, department: Department) -> int | None:
    """Start a conversation in ``department`` (auto-assign) and say whom it was offered to."""
    return world.conversation(world.start(department)).offered_to


def test_offer_goes_to_the_least_loaded_online_agent(world: World) -> None:
    manual = world.department("Manual")
    support = world.department(auto_assign=True, capacity=5)
    alice = world.agent("Alice", [manual, support])
    bob = world.agent("Bob", [manual, support])
    carol = world.agent("Carol", [manual, support])
    _assign(world, alice, manual, 2)
    _assign(world, bob, manual, 1)
    _assign(world, carol, manual, 3)
    world.store.write(lambda uow: uow.agents.set_presence(carol.id, Presence.OFFLINE, uow.now))
    world.agent("Dave", [support], presence=Presence.AWAY)  # idle, but away

    assert _offer(world, support) == bob.id


def test_ties_go_to_the_lowest_agent_id(world: World) -> None:
    support = world.department(auto_assign=True)
    world.agent("Zed", [])
    bob = world.agent("Bob", [support])
    world.agent("Amy", [support])
    assert _offer(world, support) == bob.id


def test_agents_at_capacity_are_not_offered(world: World) -> None:
    manual = world.department("Manual")
    support = world.department(auto_assign=True, capacity=2)
    alice = world.agent("Alice", [manual, support])
    bob = world.agent("Bob", [manual, support])
    _assign(world, alice, manual, 2)
    _assign(world, bob, manual, 1)
    assert _offer(world, support) == bob.id
    _assign(world, bob, manual, 1)

    before = world.store.events[-1].seq
    conversation = world.start(support)

    assert world.conversation(conversation).offered_to is None
    assert [e.type for e in world.store.events_after(before)] == [
        ev.CONVERSATION_STARTED,
        ev.CONVERSATION_QUEUED,
    ]


def test_agents_of_other_departments_are_not_offered(world: World) -> None:
    support = world.department(auto_assign=True)
    sales = world.department("Sales")
    world.agent("Seller", [sales])
    assert _offer(world, support) is None


def test_offer_returns_false_and_clears_the_ring_when_nobody_has_room(world: World) -> None:
    support = world.department(auto_assign=True, capacity=1)
    alice = world.agent("Alice", [support])
    conversation = world.start(support)
    assert world.conversation(conversation).offered_to == alice.id
    _assign(world, alice, world.department("Other"), 1)

    offered = world.run(
        lambda uow, c: routing.offer(uow, c, support, uow.agents.online_in_department(support.id)),
        conversation,
    )

    assert offered is False
    assert world.conversation(conversation).offered_to is None


def test_offer_to_a_conversation_no_longer_queued_fails_quietly(world: World) -> None:
    support = world.department()
    alice = world.agent("Alice", [support])
    conversation = world.start(support)
    stale = world.conversation(conversation)
    world.run(agents.accept, alice, conversation)
    before = world.store.events[-1].seq

    offered = world.store.write(lambda uow: routing.offer(uow, stale, support, [alice]))

    assert offered is False
    assert world.conversation(conversation).offered_to is None
    assert world.store.events_after(before) == []


def test_expire_finishes_conversations_queued_too_long_as_unavailable(world: World) -> None:
    fast = world.department("Fast", queued_max_time=60)
    slow = world.department("Slow", queued_max_time=600)
    alice = world.agent("Alice", [fast])
    late = world.start(fast, "Late")
    taken = world.start(fast)
    world.run(agents.accept, alice, taken)
    patient = world.start(slow)
    world.store.advance(59)
    assert world.store.write(routing.expire_waiting) == 0

    world.store.advance(1)
    before = world.store.events[-1].seq
    assert world.store.write(routing.expire_waiting) == 1

    stored = world.conversation(late)
    assert (stored.state, stored.finish_reason, stored.finished_by_type) == (
        ConversationState.FINISHED,
        FinishReason.UNAVAILABLE,
        ActorType.SYSTEM,
    )
    assert world.conversation(taken).state is ConversationState.ASSIGNED
    assert world.conversation(patient).state is ConversationState.QUEUED
    (finished,) = world.store.events_after(before)
    assert (finished.type, finished.actor) == (ev.CONVERSATION_FINISHED, SYSTEM)
    assert finished.data == {
        "reason": "unavailable",
        "finished_by": {"type": "system", "id": None},
        "why": "queued_max_time",
    }
    assert world.store.write(routing.expire_waiting) == 0


def test_expire_rings_the_next_agent_after_ringing_max_time(world: World) -> None:
    support = world.department(auto_assign=True, ringing_max_time=30, queued_max_time=900)
    alice, bob = world.agent("Alice", [support]), world.agent("Bob", [support])
    conversation = world.start(support)
    assert world.conversation(conversation).offered_to == alice.id
    world.store.advance(29)
    assert world.store.write(routing.expire_waiting) == 0

    world.store.advance(1)
    before = world.store.events[-1].seq
    assert world.store.write(routing.expire_waiting) == 1

    stored = world.conversation(conversation)
    assert (stored.state, stored.offered_to, stored.offered_at) == (
        ConversationState.QUEUED,
        bob.id,
        world.store.now,
    )
    (offered,) = world.store.events_after(before)
    assert (offered.type, offered.actor, offered.agent_id) == (ev.CONVERSATION_OFFERED, SYSTEM, bob.id)

    world.store.advance(30)
    world.store.write(routing.expire_waiting)
    assert world.conversation(conversation).offered_to == alice.id


def test_expire_stops_ringing_when_nobody_else_is_online(world: World) -> None:
    support = world.department(auto_assign=True, ringing_max_time=30)
    alice = world.agent("Alice", [support])
    conversation = world.start(support)
    world.store.advance(30)
    before = world.store.events[-1].seq

    assert world.store.write(routing.expire_waiting) == 1

    stored = world.conversation(conversation)
    assert (stored.state, stored.offered_to) == (ConversationState.QUEUED, None)
    assert world.store.events_after(before) == []
    world.store.advance(30)
    assert world.store.write(routing.expire_waiting) == 0
    assert world.conversation(conversation).offered_to is None
    assert world.store.agent(alice.id).presence is Presence.ONLINE


def test_expire_finishes_rather_than_rings_when_both_ran_out(world: World) -> None:
    support = world.department(auto_assign=True, ringing_max_time=30, queued_max_time=60)
    world.agent("Alice", [support])
    world.agent("Bob", [support])
    conversation = world.start(support)
    world.store.advance(60)
    assert world.store.write(routing.expire_waiting) == 1
    assert world.conversation(conversation).finish_reason is FinishReason.UNAVAILABLE
    assert world.store.events[-1].type == ev.CONVERSATION_FINISHED


def test_going_online_offers_waiting_conversations_of_auto_assign_departments(world: World) -> None:
    support = world.department(auto_assign=True)
    manual = world.department("Manual")
    alice = world.agent("Alice", [support, manual], presence=Presence.OFFLINE)
    first, second = world.start(support), world.start(support)
    by_hand = world.start(manual)
    assert world.conversation(first).offered_to is None
    before = world.store.events[-1].seq

    world.run(lambda uow, a: agents.set_presence(uow, a, Presence.ONLINE), alice)

    assert world.store.agent(alice.id).presence is Presence.ONLINE
    presence, *offers = world.store.events_after(before)
    assert (presence.type, presence.actor, presence.agent_id) == (
        ev.AGENT_PRESENCE,
        Actor(ActorType.AGENT, alice.id),
        alice.id,
    )
    assert presence.data == {"agent_id": alice.id, "status": "online"}
    assert [(e.type, e.conversation_id, e.agent_id, e.actor) for e in offers] == [
        (ev.CONVERSATION_OFFERED, first.id, alice.id, SYSTEM),
        (ev.CONVERSATION_OFFERED, second.id, alice.id, SYSTEM),
    ]
    assert world.conversation(by_hand).offered_to is None


def test_going_online_leaves_conversations_already_ringing_someone(world: World) -> None:
    support = world.department(auto_assign=True)
    world.agent("Alice", [support])
    bob = world.agent("Bob", [support], presence=Presence.OFFLINE)
    ringing = world.start(support)
    before = world.store.events[-1].seq
    world.run(lambda uow, a: agents.set_presence(uow, a, Presence.ONLINE), bob)
    assert [e.type for e in world.store.events_after(before)] == [ev.AGENT_PRESENCE]
    assert world.conversation(ringing).offered_to == 1


@pytest.mark.parametrize("presence", [Presence.AWAY, Presence.OFFLINE])
def test_going_away_or_offline_offers_nothing(world: World, presence: Presence) -> None:
    support = world.department(auto_assign=True)
    alice = world.agent("Alice", [support], presence=Presence.OFFLINE)
    waiting = world.start(support)
    before = world.store.events[-1].seq
    world.run(lambda uow, a: agents.set_presence(uow, a, presence), alice)
    (changed,) = world.store.events_after(before)
    assert changed.data == {"agent_id": alice.id, "status": presence.value}
    assert world.store.agent(alice.id).presence is presence
    assert world.conversation(waiting).offered_to is None


def test_going_online_rings_no_more_than_capacity(world: World) -> None:
    support = world.department(auto_assign=True, capacity=2)
    alice = world.agent("Alice", [support], presence=Presence.OFFLINE)
    waiting = [world.start(support) for _ in range(4)]
    world.run(lambda uow, a: agents.set_presence(uow, a, Presence.ONLINE), alice)
    assert [world.conversation(c).offered_to for c in waiting] == [alice.id, alice.id, None, None]


def test_an_offer_holds_every_candidate_before_counting_and_an_accept_holds_its_agent(world: World) -> None:
    """What keeps concurrent units of work (threads, processes) from putting an agent over capacity."""
    support = world.department(auto_assign=True, capacity=1)
    carol = world.agent("Carol", [support])
    alice = world.agent("Alice", [support])
    world.store.db.assignment_locks.clear()

    conversation = world.start(support)
    assert world.store.db.assignment_locks == [sorted([alice.id, carol.id])]

    world.store.db.assignment_locks.clear()
    world.run(agents.accept, world.agent("Bob", [support], presence=Presence.AWAY), conversation)
    assert world.store.db.assignment_locks[-1] == [world.conversation(conversation).assignee_id]
